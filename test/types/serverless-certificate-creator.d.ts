// The plugin ships no types; the tests construct it as osls does: new Plugin(serverless, options).
declare module 'serverless-certificate-creator' {
  export default class CreateCertificatePlugin {
    constructor(serverless: unknown, options: Record<string, unknown>);
  }
}
