/**
 * The CDK app of {{name}}: `bld run {{name}}:synth` synthesises it into
 * dist/{{root}}/cdk.out, after every API it deploys is bundled.
 */
import { App } from 'aws-cdk-lib';

import { ApplicationStack } from './stacks/application-stack.js';

const app = new App();

new ApplicationStack(app, '{{name}}-sandbox', {
  env: {
    account: process.env.CDK_DEFAULT_ACCOUNT,
    region: process.env.CDK_DEFAULT_REGION,
  },
});

app.synth();
