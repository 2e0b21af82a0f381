/**
 * rest-api.ts - an API Gateway REST API whose routes come from generated
 * OpenAPI metadata: one method per operation, each with its own integration.
 */
import {
  Cors,
  Integration,
  MethodOptions,
  RestApi as ApiGatewayRestApi,
  RestApiProps as ApiGatewayRestApiProps,
} from 'aws-cdk-lib/aws-apigateway';
import { Grant, IGrantable } from 'aws-cdk-lib/aws-iam';
import { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

import { RuntimeConfig } from '../runtime-config';
import { OperationDetails } from './utils';

/** How one operation is served. */
export interface RestApiIntegration {
  readonly integration: Integration;
  /** The function behind it, when there is one (for grants and alarms). */
  readonly handler?: IFunction;
  /** Per-operation method options, over the API's defaults. */
  readonly options?: MethodOptions;
}

export interface RestApiProps<TOperation extends string> {
  readonly apiName: string;
  readonly operations: Record<TOperation, OperationDetails>;
  readonly integrations: Record<TOperation, RestApiIntegration>;
  /** Method options of every operation (authorisation), made in the API's scope. */
  readonly defaultMethodOptions?: (scope: Construct) => MethodOptions;
  readonly restApiProps?: Partial<ApiGatewayRestApiProps>;
}

export class RestApi<TOperation extends string> extends Construct {
  public readonly api: ApiGatewayRestApi;
  public readonly integrations: Record<TOperation, RestApiIntegration>;

  constructor(scope: Construct, id: string, props: RestApiProps<TOperation>) {
    super(scope, id);
    this.integrations = props.integrations;
    this.api = new ApiGatewayRestApi(this, 'Api', {
      restApiName: props.apiName,
      defaultCorsPreflightOptions: { allowOrigins: Cors.ALL_ORIGINS, allowMethods: Cors.ALL_METHODS },
      deployOptions: { tracingEnabled: true },
      ...props.restApiProps,
    });
    const defaults = props.defaultMethodOptions ? props.defaultMethodOptions(this) : {};
    for (const operation of Object.keys(props.operations).sort() as TOperation[]) {
      const { path, method } = props.operations[operation];
      const { integration, options } = props.integrations[operation];
      this.api.root.resourceForPath(path).addMethod(method, integration, { ...defaults, ...options });
    }
    RuntimeConfig.ensure(this).registerApi(props.apiName, this.api.url);
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
