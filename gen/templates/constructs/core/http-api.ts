/**
 * http-api.ts - an API Gateway HTTP API whose routes come from generated
 * OpenAPI metadata: one route per operation, each with its own integration.
 *
 * Authorisation: `defaultAuthorizer` guards every route, except one whose
 * operation's `options` name their own `authorizer`.  CORS: API Gateway answers
 * every preflight `OPTIONS` itself (before any authorizer) for the allowed origins
 * (`allowedOrigins`, or later `restrictCorsTo`).
 */
import {
  CfnApi,
  CorsHttpMethod,
  HttpApi as ApiGatewayHttpApi,
  HttpApiProps as ApiGatewayHttpApiProps,
  HttpMethod,
  IHttpRouteAuthorizer,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { Grant, IGrantable } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

import { RuntimeConfig } from '../runtime-config.js';
import {
  ApiIntegrations,
  CorsOrigin,
  corsOriginStrings,
  HttpApiIntegration,
  integrationOf,
  OperationDetails,
  setAllowedOrigins,
} from './utils.js';

export interface HttpApiProps<TOperation extends string, TIntegrations extends ApiIntegrations<TOperation, HttpApiIntegration>> {
  /** The name the API's URL is registered under in the RuntimeConfig (its class name). */
  readonly apiName: string;
  readonly operations: Record<TOperation, OperationDetails>;
  readonly integrations: TIntegrations;
  /** The authorizer of every route whose operation names none of its own. */
  readonly defaultAuthorizer?: IHttpRouteAuthorizer;
  /** Origins allowed by CORS (and told to the functions); every origin (`*`) by default. */
  readonly allowedOrigins?: CorsOrigin[];
  /** Anything else of API Gateway's HttpApi (applied last). */
  readonly httpApiProps?: Partial<ApiGatewayHttpApiProps>;
}

/** Headers a browser may send to the API (CORS). */
export const HTTP_CORS_HEADERS = [
  'authorization',
  'content-type',
  'x-amz-content-sha256',
  'x-amz-date',
  'x-amz-security-token',
  'x-correlation-id',
];

export class HttpApi<
  TOperation extends string,
  TIntegrations extends ApiIntegrations<TOperation, HttpApiIntegration>,
> extends Construct {
  public readonly api: ApiGatewayHttpApi;
  public readonly integrations: TIntegrations;
  private origins: string[] = ['*'];

  constructor(scope: Construct, id: string, props: HttpApiProps<TOperation, TIntegrations>) {
    super(scope, id);
    this.integrations = props.integrations;
    this.api = new ApiGatewayHttpApi(this, 'Api', {
      apiName: props.apiName,
      corsPreflight: {
        allowOrigins: this.origins,
        allowMethods: [CorsHttpMethod.ANY],
        allowHeaders: HTTP_CORS_HEADERS,
        exposeHeaders: ['x-correlation-id'],
      },
      defaultAuthorizer: props.defaultAuthorizer,
      ...props.httpApiProps,
    });
    for (const operation of Object.keys(props.operations).sort() as TOperation[]) {
      const { path, method } = props.operations[operation];
      const { integration, options } = integrationOf<HttpApiIntegration>(props.integrations, operation);
      this.api.addRoutes({ ...options, path, methods: [method as HttpMethod], integration });
    }
    if (props.allowedOrigins) {
      this.restrictCorsTo(...props.allowedOrigins);
    }
    RuntimeConfig.ensure(this).registerApi(props.apiName, this.api.apiEndpoint);
  }

  /** The origins CORS allows. */
  public get allowedOrigins(): string[] {
    return [...this.origins];
  }

  /**
   * Allow only these origins (a string such as `https://example.com`, or a CloudFront
   * distribution) in API Gateway's CORS answers and the functions' CORS.
   */
  public restrictCorsTo(...origins: CorsOrigin[]): void {
    this.origins = corsOriginStrings(origins);
    const cfnApi = this.api.node.defaultChild as CfnApi;
    cfnApi.corsConfiguration = {
      allowOrigins: this.origins,
      allowMethods: ['*'],
      allowHeaders: HTTP_CORS_HEADERS,
      exposeHeaders: ['x-correlation-id'],
    };
    setAllowedOrigins(this.integrations, this.origins);
  }

  /** The API's base URL. */
  public get url(): string {
    return this.api.apiEndpoint;
  }

  /** Allow grantee to invoke every route of this API (for IAM authorisation). */
  public grantInvokeAccess(grantee: IGrantable): Grant {
    return Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:Invoke'],
      resourceArns: [this.api.arnForExecuteApi('*', '/*', '*')],
    });
  }
}
