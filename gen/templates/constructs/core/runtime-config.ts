/**
 * runtime-config.ts - what clients need at run time (API URLs, by API name),
 * collected per stack while the app is synthesised and published as stack outputs.
 */
import { CfnOutput, Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';

export interface RuntimeConfigValues {
  apis: Record<string, string>;
}

export class RuntimeConfig extends Construct {
  public readonly config: RuntimeConfigValues = { apis: {} };

  /** The runtime config of scope's stack, created on first use. */
  public static ensure(scope: Construct): RuntimeConfig {
    const stack = Stack.of(scope);
    const existing = stack.node.tryFindChild('RuntimeConfig');
    return existing instanceof RuntimeConfig ? existing : new RuntimeConfig(stack, 'RuntimeConfig');
  }

  /** Record an API's base URL under its name, and output it. */
  public registerApi(name: string, url: string): void {
    this.config.apis[name] = url;
    new CfnOutput(this, `${name.replace(/[^A-Za-z0-9]/g, '')}Url`, { value: url });
  }
}
