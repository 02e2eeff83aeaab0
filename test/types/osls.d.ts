// osls ships no types for its internals; the tests use the normalisation its deploy hashes
// to decide whether a deploy can be skipped (lib/plugins/aws/deploy/lib/check-for-changes.js).
declare module 'osls/lib/plugins/aws/lib/normalize-files' {
  const normalizeFiles: { normalizeCloudFormationTemplate(template: unknown): unknown };
  export default normalizeFiles;
}

declare module 'osls/lib/serverless' {
  export default class Serverless {
    constructor(options: Record<string, unknown>);
    init(): Promise<void>;
    pluginManager: {
      hooks: Record<string, { pluginName: string }[]>;
      plugins: object[];
      commands: Record<string, { usage?: string; options?: Record<string, { usage?: string }> }>;
    };
    service: { provider: { compiledCloudFormationTemplate?: unknown } };
    getProvider(name: 'aws'): { request: (...args: any[]) => Promise<any> };
  }
}

// The error class osls gives plugins as `serverless.classes.Error`: a user error, printed without a stack.
declare module 'osls/lib/serverless-error' {
  export default class ServerlessError extends Error {
    constructor(message: string, code?: string);
    code?: string;
  }
}
