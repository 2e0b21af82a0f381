/**
 * {{pascal}} - deploys the {{name}} FastAPI ({{root}}) behind an API Gateway REST API.
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
import { Duration{{#iam}}, Stack{{/iam}} } from 'aws-cdk-lib';
import {
{{#iam}}
  AuthorizationType,
{{/iam}}
{{#cognito}}
  AuthorizationType,
  CognitoUserPoolsAuthorizer,
{{/cognito}}
  LambdaIntegration,
} from 'aws-cdk-lib/aws-apigateway';
{{#cognito}}
import { IUserPool, UserPool } from 'aws-cdk-lib/aws-cognito';
{{/cognito}}
import { {{#iam}}AccountPrincipal, {{/iam}}AnyPrincipal, Effect, PolicyDocument, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Architecture, Code, Function as LambdaFunction, FunctionProps, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

import { RestApi } from '../../core/api/rest-api.js';
import {
  ApiIntegrations,
  CorsOrigin,
  IntegrationBuilder,
  pascalCase,
  RestApiIntegration,
  workspacePath,
} from '../../core/api/utils.js';
import { OPERATION_DETAILS, Operations } from '../../generated/{{name}}/metadata.gen.js';

/** The default integration of an operation: its own Lambda function. */
export interface {{pascal}}DefaultIntegration extends RestApiIntegration {
  readonly handler: LambdaFunction;
  readonly integration: LambdaIntegration;
}

export interface {{pascal}}Props<TIntegrations extends ApiIntegrations<Operations, RestApiIntegration>> {
  /** One integration per operation: `{{pascal}}.defaultIntegrations(this).build()`, maybe with overrides. */
  readonly integrations: TIntegrations;
  /** Origins allowed by CORS (and by the functions, as ALLOWED_ORIGINS); every origin by default. */
  readonly allowedOrigins?: CorsOrigin[];
{{#cognito}}
  /** The Cognito user pool whose tokens the API accepts; a new one when absent (see `userPool`). */
  readonly userPool?: IUserPool;
  /** The same, as the AWS plugin's constructs take it. */
  readonly identity?: { readonly userPool: IUserPool };
{{/cognito}}
}

export class {{pascal}}<
{{^shared}}
  TIntegrations extends ApiIntegrations<Operations, RestApiIntegration> = Record<Operations, {{pascal}}DefaultIntegration>,
{{/shared}}
{{#shared}}
  TIntegrations extends ApiIntegrations<Operations, RestApiIntegration> = { $router: {{pascal}}DefaultIntegration },
{{/shared}}
> extends RestApi<Operations, TIntegrations> {
{{#cognito}}
  /** The user pool whose tokens the API accepts: the one passed, else the one made here. */
  public readonly userPool: IUserPool;
{{/cognito}}

{{^shared}}
  /** One Python 3.12 Lambda function per operation, running {{module}}.main.handler. */
{{/shared}}
{{#shared}}
  /** One Python 3.12 Lambda function, `$router`, for every operation, running {{module}}.main.handler. */
{{/shared}}
  public static defaultIntegrations(scope: Construct) {
    return IntegrationBuilder.rest({
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
        const handler = new LambdaFunction(scope, `{{pascal}}${pascalCase(operation)}Handler`, props);
        handler.addEnvironment('POWERTOOLS_SERVICE_NAME', '{{pascal}}');
        handler.addEnvironment('POWERTOOLS_METRICS_NAMESPACE', '{{pascal}}');
        return { handler, integration: new LambdaIntegration(handler{{#shared}}, { scopePermissionToMethod: false }{{/shared}}) };
      },
    });
  }

  constructor(scope: Construct, id: string, props: {{pascal}}Props<TIntegrations>) {
{{#cognito}}
    const userPool = props.userPool ?? props.identity?.userPool ?? new UserPool(scope, `${id}UserPool`);
{{/cognito}}
    super(scope, id, {
      apiName: '{{pascal}}',
      operations: OPERATION_DETAILS,
      integrations: props.integrations,
      allowedOrigins: props.allowedOrigins,
{{#iam}}
      defaultMethodOptions: { authorizationType: AuthorizationType.IAM },
{{/iam}}
{{#cognito}}
      defaultMethodOptions: {
        authorizationType: AuthorizationType.COGNITO,
        authorizer: new CognitoUserPoolsAuthorizer(scope, `${id}Authorizer`, { cognitoUserPools: [userPool] }),
      },
{{/cognito}}
      policy: new PolicyDocument({
        statements: [
{{#iam}}
          // Callers of the account, signed with SigV4 (IAM decides which of them may).
          new PolicyStatement({
            effect: Effect.ALLOW,
            principals: [new AccountPrincipal(Stack.of(scope).account)],
            actions: ['execute-api:Invoke'],
            resources: ['execute-api:/*'],
          }),
          // Browsers send the CORS preflight unsigned: OPTIONS stays open.
          new PolicyStatement({
            effect: Effect.ALLOW,
            principals: [new AnyPrincipal()],
            actions: ['execute-api:Invoke'],
            resources: ['execute-api:/*/OPTIONS/', 'execute-api:/*/OPTIONS/*'],
          }),
{{/iam}}
{{^iam}}
          // Anyone may call: {{auth}} authorisation decides, method by method.
          new PolicyStatement({
            effect: Effect.ALLOW,
            principals: [new AnyPrincipal()],
            actions: ['execute-api:Invoke'],
            resources: ['execute-api:/*'],
          }),
{{/iam}}
        ],
      }),
    });
{{#cognito}}
    this.userPool = userPool;
{{/cognito}}
  }
}
