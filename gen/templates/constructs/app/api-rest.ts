/**
 * {{pascal}} - deploys the {{name}} FastAPI ({{root}}) behind an API Gateway REST API.
 *
 * By default each operation of the API runs in its own Lambda function (all with the
 * same bundle, {{dist}}/bundle); the operations and their routes come from
 * the generated metadata (src/generated/{{name}}/metadata.gen.ts), so a route added in
 * Python appears here after `bld run common-constructs:build`.  Authorisation: {{auth}}.
 *
 *     new {{pascal}}(this, '{{pascal}}', {
 *       integrations: {{pascal}}.defaultIntegrations(this).build(),
 *     });
 */
import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
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
import { Architecture, Code, Function as LambdaFunction, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

import { RestApi, RestApiIntegration } from '../../core/api/rest-api';
import { IntegrationBuilder, pascalCase, workspaceRoot } from '../../core/api/utils';
import { OPERATION_DETAILS, Operations } from '../../generated/{{name}}/metadata.gen';

export interface {{pascal}}Props {
  /** One integration per operation: `{{pascal}}.defaultIntegrations(this).build()`, maybe with overrides. */
  readonly integrations: Record<Operations, RestApiIntegration>;
{{#cognito}}
  /** The Cognito user pool whose tokens the API accepts; a new one when absent. */
  readonly userPool?: IUserPool;
{{/cognito}}
}

export class {{pascal}} extends RestApi<Operations> {
  /** One Python 3.12 Lambda function per operation, running {{module}}.main.handler. */
  public static defaultIntegrations(scope: Construct): IntegrationBuilder<Operations, RestApiIntegration> {
    const code = Code.fromAsset(path.join(workspaceRoot(), '{{dist}}/bundle'));
    return new IntegrationBuilder(OPERATION_DETAILS, (operation) => {
      const handler = new LambdaFunction(scope, `{{pascal}}${pascalCase(operation)}Handler`, {
        runtime: Runtime.PYTHON_3_12,
        architecture: Architecture.X86_64,
        handler: '{{module}}.main.handler',
        code,
        memorySize: 512,
        timeout: Duration.seconds(30),
        tracing: Tracing.ACTIVE,
        environment: {
          POWERTOOLS_SERVICE_NAME: '{{name}}',
          POWERTOOLS_METRICS_NAMESPACE: '{{name}}',
        },
      });
      return { handler, integration: new LambdaIntegration(handler) };
    });
  }

  constructor(scope: Construct, id: string, props: {{pascal}}Props) {
    super(scope, id, {
      apiName: '{{name}}',
      operations: OPERATION_DETAILS,
      integrations: props.integrations,
{{#iam}}
      defaultMethodOptions: () => ({ authorizationType: AuthorizationType.IAM }),
{{/iam}}
{{#cognito}}
      defaultMethodOptions: (api) => ({
        authorizationType: AuthorizationType.COGNITO,
        authorizer: new CognitoUserPoolsAuthorizer(api, 'Authorizer', {
          cognitoUserPools: [props.userPool ?? new UserPool(api, 'UserPool')],
        }),
      }),
{{/cognito}}
    });
  }
}
