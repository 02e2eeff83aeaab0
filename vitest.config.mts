import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'client/test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // Vitest's default on two cores is one worker. Much of the suite waits on child processes
    // (the CLI, packaged bundles, local endpoints), so more workers than cores keep both busy;
    // the packaging they share is locked per stack (test/package-stage.ts).
    maxWorkers: 4,
    // Test files share their worker's modules instead of importing the AWS SDK, osls and the
    // resources again each (a third of the suite's time). What a file changes globally it puts back:
    // environment stubs and mocks are undone after each test, SDK client mocks after each file.
    isolate: false,
    unstubEnvs: true,
    restoreMocks: true,
    // The AWS SDK's warning that it will need Node 22 from January 2027 (said once in the README),
    // silenced in the test workers only, with the SDK's own switch.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    testTimeout: 30_000,
    hookTimeout: 300_000,
    // A focused or skipped test must not pass CI silently.
    allowOnly: false,
  },
});
