/**
 * {{pascal}} - deploys the {{name}} FastAPI ({{root}}) as one Lambda function behind a
 * Function URL that streams its responses (invoke mode RESPONSE_STREAM).
 *
 * The function runs the bundle's run.sh ({{dist}}/bundle/run.sh), which starts
 * uvicorn; the AWS Lambda Web Adapter layer turns each invocation into an HTTP request
 * to it and streams the answer back chunk by chunk, so a FastAPI `StreamingResponse`
 * (a route marked `openapi_extra={"x-streaming": True}`) reaches the caller as it is
 * produced.  The Function URL takes IAM (SigV4) authorisation: `grantInvokeAccess`.
 *
 *     const api = new {{pascal}}(this, '{{pascal}}');
 *     api.grantInvokeAccess(role);
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { Grant, IGrantable } from 'aws-cdk-lib/aws-iam';
import {
  Architecture,
  CfnUrl,
  Code,
  Function as LambdaFunction,
  FunctionProps,
  FunctionUrl,
  FunctionUrlAuthType,
  HttpMethod,
  InvokeMode,
  LayerVersion,
  Runtime,
  Tracing,
} from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

import { RuntimeConfig } from '../../core/runtime-config.js';
import { CorsOrigin, corsOriginStrings, OperationDetails, workspacePath } from '../../core/api/utils.js';
import { OPERATION_DETAILS, Operations } from '../../generated/{{name}}/metadata.gen.js';

/** The AWS Lambda Web Adapter layer (x86_64), published by AWS in every region. */
export const WEB_ADAPTER_LAYER_ACCOUNT = '753240598075';
export const WEB_ADAPTER_LAYER_VERSION = 24;

/** The Function URL's CORS for these origins. */
function urlCors(allowedOrigins: string[]) {
  return {
    allowedOrigins,
    allowedMethods: [HttpMethod.ALL],
    allowedHeaders: ['authorization', 'content-type', 'x-amz-content-sha256', 'x-amz-date', 'x-amz-security-token', 'x-correlation-id'],
    exposedHeaders: ['x-correlation-id'],
  };
}

export interface {{pascal}}Props {
  /** Options of the function over the defaults (a VPC, memory, more environment, ...). */
  readonly functionProps?: Partial<FunctionProps>;
  /** Origins allowed by CORS (and by the app, as ALLOWED_ORIGINS); every origin by default. */
  readonly allowedOrigins?: CorsOrigin[];
}

export class {{pascal}} extends Construct {
  /** The API's operations; those marked `streaming` answer with a stream. */
  public static readonly operations: Record<Operations, OperationDetails> = OPERATION_DETAILS;

  public readonly handler: LambdaFunction;
  public readonly functionUrl: FunctionUrl;

  constructor(scope: Construct, id: string, props: {{pascal}}Props = {}) {
    super(scope, id);
    this.handler = new LambdaFunction(this, 'Handler', {
      runtime: Runtime.PYTHON_3_12,
      architecture: Architecture.X86_64,
      handler: 'run.sh',
      code: Code.fromAsset(workspacePath(import.meta.url, '{{dist}}/bundle')),
      memorySize: 512,
      timeout: Duration.seconds(30),
      tracing: Tracing.ACTIVE,
      layers: [
        LayerVersion.fromLayerVersionArn(
          this,
          'WebAdapterLayer',
          `arn:aws:lambda:${Stack.of(this).region}:${WEB_ADAPTER_LAYER_ACCOUNT}:layer:LambdaAdapterLayerX86:${WEB_ADAPTER_LAYER_VERSION}`,
        ),
      ],
      ...props.functionProps,
    });
    const environment: Record<string, string> = {
      // The adapter wraps the runtime's start, runs run.sh and streams uvicorn's answers.
      AWS_LAMBDA_EXEC_WRAPPER: '/opt/bootstrap',
      AWS_LWA_INVOKE_MODE: 'response_stream',
      PORT: '8000',
      POWERTOOLS_SERVICE_NAME: '{{pascal}}',
      POWERTOOLS_METRICS_NAMESPACE: '{{pascal}}',
    };
    for (const [key, value] of Object.entries(environment)) {
      this.handler.addEnvironment(key, value);
    }
    this.functionUrl = this.handler.addFunctionUrl({
      authType: FunctionUrlAuthType.AWS_IAM,
      invokeMode: InvokeMode.RESPONSE_STREAM,
      cors: urlCors(['*']),
    });
    if (props.allowedOrigins) {
      this.restrictCorsTo(...props.allowedOrigins);
    }
    RuntimeConfig.ensure(this).registerApi('{{pascal}}', this.functionUrl.url);
  }

  /**
   * Allow only these origins (a string such as `https://example.com`, or a CloudFront
   * distribution) in the Function URL's CORS and the app's (ALLOWED_ORIGINS).
   */
  public restrictCorsTo(...origins: CorsOrigin[]): void {
    const allowed = corsOriginStrings(origins);
    const cors = urlCors(allowed);
    (this.functionUrl.node.defaultChild as CfnUrl).cors = {
      allowOrigins: cors.allowedOrigins,
      allowMethods: ['*'],
      allowHeaders: cors.allowedHeaders,
      exposeHeaders: cors.exposedHeaders,
    };
    this.handler.addEnvironment('ALLOWED_ORIGINS', allowed.join(','));
  }

  /** The Function URL. */
  public get url(): string {
    return this.functionUrl.url;
  }

  /** Allow grantee to call the Function URL (lambda:InvokeFunctionUrl, IAM-authorised). */
  public grantInvokeAccess(grantee: IGrantable): Grant {
    return this.functionUrl.grantInvokeUrl(grantee);
  }
}
