/**
 * utils.ts - helpers the API constructs share: finding the workspace root (where
 * the bundles are), naming, and a typed builder of per-operation integrations.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** One operation of an API, as the generated metadata describes it. */
export interface OperationDetails {
  readonly path: string;
  readonly method: string;
}

/** The folder holding nx.json, searched upwards from `from` (default: this file's folder). */
export function workspaceRoot(from: string = __dirname): string {
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

/** "items.listItems" -> "ItemsListItems": operation names as construct ids. */
export function pascalCase(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter((word) => word.length > 0)
    .map((word) => word[0].toUpperCase() + word.slice(1))
    .join('');
}

/**
 * Builds one integration per operation.  Every operation gets the default
 * integration unless `withOverrides` gave it another; the result is typed by the
 * operation names, so a missing or misspelt operation is a compile error.
 */
export class IntegrationBuilder<TOperation extends string, TIntegration> {
  private readonly overrides: Partial<Record<TOperation, TIntegration>> = {};

  constructor(
    private readonly operations: Record<TOperation, OperationDetails>,
    private readonly buildDefault: (operation: TOperation, details: OperationDetails) => TIntegration,
  ) {}

  /** Use these integrations instead of the defaults for the operations they name. */
  public withOverrides(overrides: Partial<Record<TOperation, TIntegration>>): this {
    Object.assign(this.overrides, overrides);
    return this;
  }

  public build(): Record<TOperation, TIntegration> {
    const result = {} as Record<TOperation, TIntegration>;
    for (const operation of Object.keys(this.operations).sort() as TOperation[]) {
      const override = this.overrides[operation];
      result[operation] = override !== undefined ? override : this.buildDefault(operation, this.operations[operation]);
    }
    return result;
  }
}
