/**
 * ApplicationStack - the workspace's APIs in one stack.  bld listed the API
 * constructs of packages/common/constructs when it generated this file; add an API
 * generated later by hand, the same way.
 */
import { Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
{{imports}}
export class ApplicationStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
{{apis}}  }
}
