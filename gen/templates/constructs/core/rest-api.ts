/**
 * rest-api.ts - an API Gateway REST API whose methods come from generated
 * OpenAPI metadata: one method per operation, each with its own integration.
 *
 * Authorisation: `defaultMethodOptions` apply to every method, except that an
 * operation whose own `options` name an `authorizer` or an `authorizationType`
 * gets none of the default's authorisation (so a Cognito authorizer on one
 * operation of an IAM API is that method's only authorisation).  CORS: every
 * resource (also those added after construction) answers the preflight
 * `OPTIONS` without authorisation, for the origins allowed when the app is
 * synthesised (`allowedOrigins`, then `restrictCorsTo`), and API Gateway's own
 * 4XX/5XX answers carry the CORS headers too.
 */
import { Aspects, Lazy } from 'aws-cdk-lib';
import {
  Cors,
  IResource,
  MethodOptions,
  Resource,
  ResponseType,
  RestApi as ApiGatewayRestApi,
  RestApiProps as ApiGatewayRestApiProps,
} from 'aws-cdk-lib/aws-apigateway';
import { Effect, Grant, IGrantable, PolicyDocument, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct, IConstruct } from 'constructs';

import { RuntimeConfig } from '../runtime-config.js';
import {
  ApiIntegrations,
  CorsOrigin,
  corsOriginStrings,
  integrationOf,
  OperationDetails,
  RestApiIntegration,
  setAllowedOrigins,
} from './utils.js';

export interface RestApiProps<TOperation extends string, TIntegrations extends ApiIntegrations<TOperation, RestApiIntegration>> {
  /** The name the API's URL is registered under in the RuntimeConfig (its class name). */
  readonly apiName: string;
  readonly operations: Record<TOperation, OperationDetails>;
  readonly integrations: TIntegrations;
  /** Method options of every operation (its authorisation), unless the operation brings its own. */
  readonly defaultMethodOptions?: MethodOptions;
  /** Origins allowed by CORS (and told to the functions); every origin (`*`) by default. */
  readonly allowedOrigins?: CorsOrigin[];
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
  TIntegrations extends ApiIntegrations<TOperation, RestApiIntegration>,
> extends Construct {
  public readonly api: ApiGatewayRestApi;
  public readonly integrations: TIntegrations;
  private origins: string[] = Cors.ALL_ORIGINS;

  constructor(scope: Construct, id: string, props: RestApiProps<TOperation, TIntegrations>) {
    super(scope, id);
    this.integrations = props.integrations;
    this.api = new ApiGatewayRestApi(this, 'Api', {
      restApiName: props.apiName,
      deployOptions: { tracingEnabled: true },
      policy: props.policy,
      ...props.restApiProps,
    });
    this.addCorsToGatewayResponses();
    const defaults = props.defaultMethodOptions ?? {};
    for (const operation of Object.keys(props.operations).sort() as TOperation[]) {
      const { path, method } = props.operations[operation];
      const { integration, options } = integrationOf<RestApiIntegration>(props.integrations, operation);
      this.api.root.resourceForPath(path).addMethod(method, integration, methodOptions(defaults, options));
    }
    if (props.allowedOrigins) {
      this.restrictCorsTo(...props.allowedOrigins);
    }
    // The preflights are added when the app is synthesised, with the origins of then.
    Aspects.of(this).add({ visit: (node: IConstruct) => node === this && this.addPreflights() });
    RuntimeConfig.ensure(this).registerApi(props.apiName, this.api.url);
  }

  /** The origins CORS allows. */
  public get allowedOrigins(): string[] {
    return [...this.origins];
  }

  /**
   * Allow only these origins (a string such as `https://example.com`, or a CloudFront
   * distribution) in the preflights, the gateway responses and the functions' CORS.
   */
  public restrictCorsTo(...origins: CorsOrigin[]): void {
    this.origins = corsOriginStrings(origins);
    setAllowedOrigins(this.integrations, this.origins);
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

  /** A preflight on the root and every resource that has none. */
  private addPreflights(): void {
    const resources: IResource[] = [this.api.root];
    resources.push(...this.api.root.node.findAll().filter((c): c is Resource => c instanceof Resource));
    for (const resource of resources) {
      if (!resource.node.tryFindChild('OPTIONS')) {
        resource.addCorsPreflight({ allowOrigins: this.origins, allowMethods: Cors.ALL_METHODS, allowHeaders: CORS_HEADERS });
      }
    }
  }

  /** API Gateway's own error answers (denied, throttled, ...) readable by the allowed origins. */
  private addCorsToGatewayResponses(): void {
    const responseHeaders = {
      'Access-Control-Allow-Origin': Lazy.string({ produce: () => `'${this.origins[0] ?? '*'}'` }),
      'Access-Control-Allow-Headers': `'${CORS_HEADERS.join(',')}'`,
      'Access-Control-Allow-Methods': `'${Cors.ALL_METHODS.join(',')}'`,
    };
    this.api.addGatewayResponse('Default4xx', { type: ResponseType.DEFAULT_4XX, responseHeaders });
    this.api.addGatewayResponse('Default5xx', { type: ResponseType.DEFAULT_5XX, responseHeaders });
  }
}
