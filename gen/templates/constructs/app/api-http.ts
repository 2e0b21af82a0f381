/**
 * {{pascal}} - deploys the {{name}} FastAPI ({{root}}) behind an API Gateway HTTP API.
 *
 * By default {{^shared}}each operation of the API runs in its own Lambda function (all with the
 * same bundle, {{dist}}/bundle){{/shared}}{{#shared}}every operation of the API runs in one Lambda function, `$router`
 * (the bundle, {{dist}}/bundle){{/shared}}; the operations and their routes come from
 * the generated metadata (src/generated/{{name}}/metadata.gen.ts), so a route added in
 * Python appears here after `bld run common-constructs:build`.  Authorisation: {{auth}}.
 *
 *     const api = new {{pascal}}(this, '{{pascal}}', {
 *       integrations: {{pascal}}.defaultIntegrations(this).build(),
 *     });
 *     api.integrations.<operation>.handler.addToRolePolicy(...);
 */
import { Duration } from 'aws-cdk-lib';
{{#iam}}
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
{{/iam}}
{{#cognito}}
import { HttpUserPoolAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { IUserPool, IUserPoolClient, UserPool } from 'aws-cdk-lib/aws-cognito';
{{/cognito}}
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Architecture, Code, Function as LambdaFunction, FunctionProps, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

import { HttpApi } from '../../core/api/http-api.js';
import {
  ApiIntegrations,
  CorsOrigin,
  HttpApiIntegration,
  IntegrationBuilder,
  pascalCase,
  workspacePath,
} from '../../core/api/utils.js';
import { OPERATION_DETAILS, Operations } from '../../generated/{{name}}/metadata.gen.js';

/** The default integration of an operation: its own Lambda function. */
export interface {{pascal}}DefaultIntegration extends HttpApiIntegration {
  readonly handler: LambdaFunction;
  readonly integration: HttpLambdaIntegration;
}

export interface {{pascal}}Props<TIntegrations extends ApiIntegrations<Operations, HttpApiIntegration>> {
  /** One integration per operation: `{{pascal}}.defaultIntegrations(this).build()`, maybe with overrides. */
  readonly integrations: TIntegrations;
  /** Origins allowed by CORS (and by the functions, as ALLOWED_ORIGINS); every origin by default. */
  readonly allowedOrigins?: CorsOrigin[];
{{#cognito}}
  /** The Cognito user pool whose tokens the API accepts; a new one when absent (see `userPool`). */
  readonly userPool?: IUserPool;
  /** The app clients whose tokens the API accepts (the audience); a new one when absent. */
  readonly userPoolClients?: IUserPoolClient[];
  /** The same, as the AWS plugin's constructs take them. */
  readonly identity?: { readonly userPool: IUserPool; readonly userPoolClient?: IUserPoolClient };
{{/cognito}}
}

export class {{pascal}}<
{{^shared}}
  TIntegrations extends ApiIntegrations<Operations, HttpApiIntegration> = Record<Operations, {{pascal}}DefaultIntegration>,
{{/shared}}
{{#shared}}
  TIntegrations extends ApiIntegrations<Operations, HttpApiIntegration> = { $router: {{pascal}}DefaultIntegration },
{{/shared}}
> extends HttpApi<Operations, TIntegrations> {
{{#cognito}}
  /** The user pool whose tokens the API accepts: the one passed, else the one made here. */
  public readonly userPool: IUserPool;
  /** The app clients whose tokens the API accepts: those passed, else the one made here. */
  public readonly userPoolClients: IUserPoolClient[];
{{/cognito}}

{{^shared}}
  /** One Python 3.12 Lambda function per operation, running {{module}}.main.handler. */
{{/shared}}
{{#shared}}
  /** One Python 3.12 Lambda function, `$router`, for every operation, running {{module}}.main.handler. */
{{/shared}}
  public static defaultIntegrations(scope: Construct) {
    return IntegrationBuilder.http({
{{#shared}}
      pattern: 'shared',
{{/shared}}
      operations: OPERATION_DETAILS,
      defaultIntegrationOptions: {
        runtime: Runtime.PYTHON_3_12,
        architecture: Architecture.X86_64,
        handler: '{{module}}.main.handler',
        code: Code.fromAsset(workspacePath(import.meta.url, '{{dist}}/bundle')),
        memorySize: 512,
        timeout: Duration.seconds(30),
        tracing: Tracing.ACTIVE,
      } as FunctionProps,
      buildDefaultIntegration: (operation, props: FunctionProps): {{pascal}}DefaultIntegration => {
        const id = `{{pascal}}${pascalCase(operation)}`;
        const handler = new LambdaFunction(scope, `${id}Handler`, props);
        handler.addEnvironment('POWERTOOLS_SERVICE_NAME', '{{pascal}}');
        handler.addEnvironment('POWERTOOLS_METRICS_NAMESPACE', '{{pascal}}');
        return {
          handler,
          integration: new HttpLambdaIntegration(`${id}Integration`, handler{{#shared}}, { scopePermissionToRoute: false }{{/shared}}),
        };
      },
    });
  }

  constructor(scope: Construct, id: string, props: {{pascal}}Props<TIntegrations>) {
{{#cognito}}
    const userPool = props.userPool ?? props.identity?.userPool ?? new UserPool(scope, `${id}UserPool`);
    const given = props.userPoolClients ?? (props.identity?.userPoolClient ? [props.identity.userPoolClient] : []);
    const userPoolClients = given.length > 0 ? given : [userPool.addClient(`${id}UserPoolClient`)];
{{/cognito}}
    super(scope, id, {
      apiName: '{{pascal}}',
      operations: OPERATION_DETAILS,
      integrations: props.integrations,
      allowedOrigins: props.allowedOrigins,
{{#iam}}
      defaultAuthorizer: new HttpIamAuthorizer(),
{{/iam}}
{{#cognito}}
      defaultAuthorizer: new HttpUserPoolAuthorizer(`${id}Authorizer`, userPool, { userPoolClients }),
{{/cognito}}
    });
{{#cognito}}
    this.userPool = userPool;
    this.userPoolClients = userPoolClients;
{{/cognito}}
  }
}
