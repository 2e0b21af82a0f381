/**
 * rest-api.ts - an API Gateway REST API whose methods come from generated
 * OpenAPI metadata: one method per operation, each with its own integration.
 *
 * Authorisation: `defaultMethodOptions` apply to every method, except that an
 * operation whose own `options` name an `authorizer` or an `authorizationType`
 * gets none of the default's authorisation (so a Cognito authorizer on one
 * operation of an IAM API is that method's only authorisation).  CORS: every
 * resource answers the preflight `OPTIONS` without authorisation, and API
 * Gateway's own 4XX/5XX answers carry the CORS headers too.
 */
import {
  Cors,
  MethodOptions,
  ResponseType,
  RestApi as ApiGatewayRestApi,
  RestApiProps as ApiGatewayRestApiProps,
} from 'aws-cdk-lib/aws-apigateway';
import { Effect, Grant, IGrantable, PolicyDocument, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

import { RuntimeConfig } from '../runtime-config.js';
import { OperationDetails, RestApiIntegration } from './utils.js';

export interface RestApiProps<TOperation extends string, TIntegrations extends Record<TOperation, RestApiIntegration>> {
  /** The name the API's URL is registered under in the RuntimeConfig (its class name). */
  readonly apiName: string;
  readonly operations: Record<TOperation, OperationDetails>;
  readonly integrations: TIntegrations;
  /** Method options of every operation (its authorisation), unless the operation brings its own. */
  readonly defaultMethodOptions?: MethodOptions;
  /** Origins allowed by CORS; every origin (`*`) by default. */
  readonly allowedOrigins?: string[];
  /** The API's resource policy. */
  readonly policy?: PolicyDocument;
  /** Anything else of API Gateway's RestApi (applied last). */
  readonly restApiProps?: Partial<ApiGatewayRestApiProps>;
}

/** Headers a browser may send to the API (CORS), beyond API Gateway's defaults. */
export const CORS_HEADERS = [...Cors.DEFAULT_HEADERS, 'x-amz-content-sha256', 'x-correlation-id'];

/** `options` without the authorisation of a method. */
function withoutAuthorization(options: MethodOptions): MethodOptions {
  const { authorizer: _authorizer, authorizationType: _type, authorizationScopes: _scopes, ...rest } = options;
  return rest;
}

/** The options of one method: the operation's own over the API's defaults. */
export function methodOptions(defaults: MethodOptions, own: MethodOptions | undefined): MethodOptions {
  if (!own) {
    return defaults;
  }
  const ownAuthorization = own.authorizer !== undefined || own.authorizationType !== undefined;
  return { ...(ownAuthorization ? withoutAuthorization(defaults) : defaults), ...own };
}

export class RestApi<
  TOperation extends string,
  TIntegrations extends Record<TOperation, RestApiIntegration>,
> extends Construct {
  public readonly api: ApiGatewayRestApi;
  public readonly integrations: TIntegrations;
  /** The origins CORS allows. */
  public readonly allowedOrigins: string[];

  constructor(scope: Construct, id: string, props: RestApiProps<TOperation, TIntegrations>) {
    super(scope, id);
    this.integrations = props.integrations;
    this.allowedOrigins = props.allowedOrigins ?? Cors.ALL_ORIGINS;
    this.api = new ApiGatewayRestApi(this, 'Api', {
      restApiName: props.apiName,
      defaultCorsPreflightOptions: {
        allowOrigins: this.allowedOrigins,
        allowMethods: Cors.ALL_METHODS,
        allowHeaders: CORS_HEADERS,
      },
      deployOptions: { tracingEnabled: true },
      policy: props.policy,
      ...props.restApiProps,
    });
    this.addCorsToGatewayResponses();
    const defaults = props.defaultMethodOptions ?? {};
    for (const operation of Object.keys(props.operations).sort() as TOperation[]) {
      const { path, method } = props.operations[operation];
      const { integration, options } = props.integrations[operation];
      this.api.root.resourceForPath(path).addMethod(method, integration, methodOptions(defaults, options));
    }
    RuntimeConfig.ensure(this).registerApi(props.apiName, this.api.url);
  }

  /** The API's base URL (its deployment stage). */
  public get url(): string {
    return this.api.url;
  }

  /** Allow grantee to invoke every method of this API (for IAM authorisation). */
  public grantInvokeAccess(grantee: IGrantable): Grant {
    this.api.addToResourcePolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        principals: [grantee.grantPrincipal],
        actions: ['execute-api:Invoke'],
        resources: ['execute-api:/*'],
      }),
    );
    return Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:Invoke'],
      resourceArns: [this.api.arnForExecuteApi('*', '/*', '*')],
    });
  }

  /** API Gateway's own error answers (denied, throttled, ...) readable by the allowed origins. */
  private addCorsToGatewayResponses(): void {
    const origin = this.allowedOrigins[0] ?? '*';
    const responseHeaders = {
      'Access-Control-Allow-Origin': `'${origin}'`,
      'Access-Control-Allow-Headers': `'${CORS_HEADERS.join(',')}'`,
      'Access-Control-Allow-Methods': `'${Cors.ALL_METHODS.join(',')}'`,
    };
    this.api.addGatewayResponse('Default4xx', { type: ResponseType.DEFAULT_4XX, responseHeaders });
    this.api.addGatewayResponse('Default5xx', { type: ResponseType.DEFAULT_5XX, responseHeaders });
  }
}
