/**
 * utils.ts - what the API constructs share: the shape of an operation, the
 * integration of one operation for REST and HTTP APIs, the typed builder of
 * every operation's integration, naming, and the workspace root (where the
 * bundles are).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Integration, MethodOptions } from 'aws-cdk-lib/aws-apigateway';
import type { AddRoutesOptions, HttpRouteIntegration } from 'aws-cdk-lib/aws-apigatewayv2';
import type { IDistribution } from 'aws-cdk-lib/aws-cloudfront';
import { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';

/** One operation of an API, as the generated metadata describes it. */
export interface OperationDetails {
  readonly path: string;
  readonly method: string;
  /** Marked `x-streaming` in the OpenAPI document (a streamed response). */
  readonly streaming?: boolean;
}

/** How one operation of a REST API is served. */
export interface RestApiIntegration {
  readonly integration: Integration;
  /**
   * The method's options over the API's defaults.  An `authorizer` or
   * `authorizationType` here replaces the API's default authorisation.
   */
  readonly options?: MethodOptions;
}

/** How one operation of an HTTP API is served. */
export interface HttpApiIntegration {
  readonly integration: HttpRouteIntegration;
  /** The route's options; an `authorizer` here replaces the API's default one. */
  readonly options?: Omit<AddRoutesOptions, 'path' | 'methods' | 'integration'>;
}

/** The key of the shared default integration (the `shared` pattern). */
export const ROUTER = '$router';

/**
 * The integrations of an API: every operation's own (the `isolated` pattern, and
 * integrations given directly), or a `$router` serving every operation that has
 * none of its own (the `shared` pattern).
 */
export type ApiIntegrations<TOperation extends string, TBase> =
  | ({ readonly $router: TBase } & Partial<Record<TOperation, TBase>>)
  | (Record<TOperation, TBase> & { readonly $router?: never });

/** The integration serving operation: its own, else the `$router`. */
export function integrationOf<TBase>(integrations: object, operation: string): TBase {
  const record = integrations as Record<string, TBase | undefined>;
  const found = record[operation] ?? record[ROUTER];
  if (found === undefined) {
    throw new Error(`no integration for the operation '${operation}' and no ${ROUTER}`);
  }
  return found;
}

interface BuilderPropsBase<TOperation extends string, TDefaultProps extends object> {
  readonly operations: Record<TOperation, OperationDetails>;
  /** Options every default integration is built with (`withDefaultOptions` adds to them). */
  readonly defaultIntegrationOptions?: TDefaultProps;
}

/** One default integration per operation (the default pattern). */
export interface IsolatedBuilderProps<TOperation extends string, TDefaultProps extends object, TDefault>
  extends BuilderPropsBase<TOperation, TDefaultProps> {
  readonly pattern?: 'isolated';
  /** The integration of an operation that no override replaces. */
  readonly buildDefaultIntegration: (operation: TOperation, props: TDefaultProps) => TDefault;
}

/** One default integration, `$router`, for every operation that no override replaces. */
export interface SharedBuilderProps<TOperation extends string, TDefaultProps extends object, TDefault>
  extends BuilderPropsBase<TOperation, TDefaultProps> {
  readonly pattern: 'shared';
  readonly buildDefaultIntegration: (operation: typeof ROUTER, props: TDefaultProps) => TDefault;
}

/** What an IntegrationBuilder needs: the operations and how to serve them by default. */
export type IntegrationBuilderProps<TOperation extends string, TDefaultProps extends object, TDefault> =
  | IsolatedBuilderProps<TOperation, TDefaultProps, TDefault>
  | SharedBuilderProps<TOperation, TDefaultProps, TDefault>;

/**
 * Builds the integrations of an API.  Every operation gets the default
 * integration (its own, or the shared `$router`) unless `withOverrides` gave it
 * another; the result is typed per operation name, so a missing operation is a
 * compile error, a default entry has the default's type (its `handler`), and an
 * overridden entry has the type of its override (with whatever extra properties
 * it carries).
 *
 *     MyApi.defaultIntegrations(this)
 *       .withDefaultOptions({ memorySize: 1024 })
 *       .withOperationOptions({ sayHello: { timeout: Duration.seconds(60) } })
 *       .withOverrides({ getDocumentation: { integration: new HttpIntegration(url) } })
 *       .build();
 */
export class IntegrationBuilder<
  TOperation extends string,
  TBase,
  TIntegrations extends object,
  TDefaultProps extends object,
  TDefault extends TBase,
> {
  private readonly overrides: Partial<Record<TOperation, TBase>> = {};
  private readonly operationOptions: Partial<Record<string, Partial<TDefaultProps>>> = {};
  private defaultOptions: TDefaultProps;

  /** A builder for a REST API's integrations. */
  public static rest<TOperation extends string, TDefaultProps extends object, TDefault extends RestApiIntegration>(
    props: SharedBuilderProps<TOperation, TDefaultProps, TDefault>,
  ): IntegrationBuilder<TOperation, RestApiIntegration, Record<typeof ROUTER, TDefault>, TDefaultProps, TDefault>;
  public static rest<TOperation extends string, TDefaultProps extends object, TDefault extends RestApiIntegration>(
    props: IsolatedBuilderProps<TOperation, TDefaultProps, TDefault>,
  ): IntegrationBuilder<TOperation, RestApiIntegration, Record<TOperation, TDefault>, TDefaultProps, TDefault>;
  public static rest<TOperation extends string, TDefaultProps extends object, TDefault extends RestApiIntegration>(
    props: IntegrationBuilderProps<TOperation, TDefaultProps, TDefault>,
  ) {
    return new IntegrationBuilder<TOperation, RestApiIntegration, object, TDefaultProps, TDefault>(props);
  }

  /** A builder for an HTTP API's integrations. */
  public static http<TOperation extends string, TDefaultProps extends object, TDefault extends HttpApiIntegration>(
    props: SharedBuilderProps<TOperation, TDefaultProps, TDefault>,
  ): IntegrationBuilder<TOperation, HttpApiIntegration, Record<typeof ROUTER, TDefault>, TDefaultProps, TDefault>;
  public static http<TOperation extends string, TDefaultProps extends object, TDefault extends HttpApiIntegration>(
    props: IsolatedBuilderProps<TOperation, TDefaultProps, TDefault>,
  ): IntegrationBuilder<TOperation, HttpApiIntegration, Record<TOperation, TDefault>, TDefaultProps, TDefault>;
  public static http<TOperation extends string, TDefaultProps extends object, TDefault extends HttpApiIntegration>(
    props: IntegrationBuilderProps<TOperation, TDefaultProps, TDefault>,
  ) {
    return new IntegrationBuilder<TOperation, HttpApiIntegration, object, TDefaultProps, TDefault>(props);
  }

  private constructor(private readonly props: IntegrationBuilderProps<TOperation, TDefaultProps, TDefault>) {
    this.defaultOptions = { ...props.defaultIntegrationOptions } as TDefaultProps;
  }

  /** Merge these into the options of every default integration (a VPC, memory, ...). */
  public withDefaultOptions(options: Partial<TDefaultProps>): this {
    this.defaultOptions = { ...this.defaultOptions, ...options };
    return this;
  }

  /**
   * Merge these into the options of the named default integrations only (over
   * `withDefaultOptions`): operations, or `$router` for the shared pattern.  An
   * overridden operation has no default to apply them to.
   */
  public withOperationOptions(
    options: Partial<Record<TOperation | typeof ROUTER, Partial<TDefaultProps>>>,
  ): this {
    for (const [key, value] of Object.entries(options) as [string, Partial<TDefaultProps>][]) {
      this.operationOptions[key] = { ...this.operationOptions[key], ...value };
    }
    return this;
  }

  /** Serve the operations these name with the given integrations instead of the default. */
  public withOverrides<TOverrides extends Partial<Record<TOperation, TBase>>>(
    overrides: TOverrides,
  ): IntegrationBuilder<TOperation, TBase, Omit<TIntegrations, keyof TOverrides> & TOverrides, TDefaultProps, TDefault> {
    Object.assign(this.overrides, overrides);
    return this as never;
  }

  /** The integrations: the overrides, and the default ones for everything else. */
  public build(): TIntegrations {
    const result: Record<string, TBase> = {};
    const options = (key: string): TDefaultProps => ({ ...this.defaultOptions, ...this.operationOptions[key] });
    const props = this.props;
    if (props.pattern === 'shared') {
      result[ROUTER] = props.buildDefaultIntegration(ROUTER, options(ROUTER));
    }
    for (const operation of Object.keys(props.operations).sort() as TOperation[]) {
      const override = this.overrides[operation];
      if (override !== undefined) {
        result[operation] = override;
      } else if (props.pattern !== 'shared') {
        result[operation] = props.buildDefaultIntegration(operation, options(operation));
      }
    }
    return result as TIntegrations;
  }
}

/** The folder holding nx.json, searched upwards from `from`. */
export function workspaceRoot(from: string): string {
  let dir = path.resolve(from);
  for (;;) {
    if (fs.existsSync(path.join(dir, 'nx.json'))) {
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) {
      throw new Error(`no nx.json in ${from} or any folder above it`);
    }
    dir = parent;
  }
}

/** The workspace-relative path `rel` as an absolute path, found from the module at `moduleUrl`. */
export function workspacePath(moduleUrl: string, rel: string): string {
  return path.join(workspaceRoot(path.dirname(fileURLToPath(moduleUrl))), rel);
}

/** An origin CORS may allow: as a string, or a CloudFront distribution (its https domain). */
export type CorsOrigin = string | IDistribution | { readonly cloudFrontDistribution: IDistribution };

/** The origins as strings: `https://<domain>` for a distribution. */
export function corsOriginStrings(origins: CorsOrigin[]): string[] {
  return origins.map((origin) => {
    if (typeof origin === 'string') {
      return origin;
    }
    const distribution = 'cloudFrontDistribution' in origin ? origin.cloudFrontDistribution : origin;
    return `https://${distribution.distributionDomainName}`;
  });
}

/** Tell every Lambda function behind these integrations the allowed origins (ALLOWED_ORIGINS). */
export function setAllowedOrigins(integrations: object, origins: string[]): void {
  for (const integration of Object.values(integrations as Record<string, object>)) {
    if ('handler' in integration && integration.handler instanceof LambdaFunction) {
      integration.handler.addEnvironment('ALLOWED_ORIGINS', origins.join(','));
    }
  }
}

/** "items.listItems" -> "ItemsListItems": operation names as construct ids. */
export function pascalCase(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter((word) => word.length > 0)
    .map((word) => word[0].toUpperCase() + word.slice(1))
    .join('');
}
