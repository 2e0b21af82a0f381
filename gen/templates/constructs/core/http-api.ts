/**
 * http-api.ts - an API Gateway HTTP API whose routes come from generated
 * OpenAPI metadata: one route per operation, each with its own integration.
 */
import {
  CorsHttpMethod,
  HttpApi as ApiGatewayHttpApi,
  HttpApiProps as ApiGatewayHttpApiProps,
  HttpMethod,
  HttpRouteIntegration,
  IHttpRouteAuthorizer,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { Grant, IGrantable } from 'aws-cdk-lib/aws-iam';
import { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

import { RuntimeConfig } from '../runtime-config';
import { OperationDetails } from './utils';

/** How one operation is served. */
export interface HttpApiIntegration {
  readonly integration: HttpRouteIntegration;
  /** The function behind it, when there is one (for grants and alarms). */
  readonly handler?: IFunction;
  /** Overrides the API's default authorizer for this operation. */
  readonly authorizer?: IHttpRouteAuthorizer;
}

export interface HttpApiProps<TOperation extends string> {
  readonly apiName: string;
  readonly operations: Record<TOperation, OperationDetails>;
  readonly integrations: Record<TOperation, HttpApiIntegration>;
  /** The authorizer of every route, made in the API's scope. */
  readonly defaultAuthorizer?: (scope: Construct) => IHttpRouteAuthorizer | undefined;
  readonly httpApiProps?: Partial<ApiGatewayHttpApiProps>;
}

export class HttpApi<TOperation extends string> extends Construct {
  public readonly api: ApiGatewayHttpApi;
  public readonly integrations: Record<TOperation, HttpApiIntegration>;

  constructor(scope: Construct, id: string, props: HttpApiProps<TOperation>) {
    super(scope, id);
    this.integrations = props.integrations;
    this.api = new ApiGatewayHttpApi(this, 'Api', {
      apiName: props.apiName,
      corsPreflight: {
        allowOrigins: ['*'],
        allowMethods: [CorsHttpMethod.ANY],
        allowHeaders: ['authorization', 'content-type', 'x-amz-date', 'x-amz-security-token', 'x-correlation-id'],
      },
      ...props.httpApiProps,
    });
    const authorizer = props.defaultAuthorizer ? props.defaultAuthorizer(this) : undefined;
    for (const operation of Object.keys(props.operations).sort() as TOperation[]) {
      const { path, method } = props.operations[operation];
      const integration = props.integrations[operation];
      this.api.addRoutes({
        path,
        methods: [method as HttpMethod],
        integration: integration.integration,
        authorizer: integration.authorizer ?? authorizer,
      });
    }
    RuntimeConfig.ensure(this).registerApi(props.apiName, this.api.apiEndpoint);
  }

  /** Allow grantee to invoke every operation of this API (for IAM authorisation). */
  public grantInvokeAccess(grantee: IGrantable): Grant {
    return Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:Invoke'],
      resourceArns: [this.api.arnForExecuteApi('*', '/*', '*')],
    });
  }
}
