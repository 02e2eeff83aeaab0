// Every handler entry the packaged stacks deploy, imported as Lambda imports it at cold start:
// the list comes from the functions of every tested stack, so a new handler cannot be missed.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { readServiceState, testedStacks } from '../package-stage';

/** `handlers/key-ring/index.handler` → `handlers/key-ring/index`, for every function of every tested stack. */
const entries = [
  ...new Set(
    Object.keys(testedStacks).flatMap((stack) =>
      Object.values(readServiceState(stack).functions as Record<string, { handler: string }>).map(({ handler }) =>
        handler.replace(/\.[^.]+$/, ''),
      ),
    ),
  ),
].sort();

describe('handler entries', () => {
  afterEach(() => vi.restoreAllMocks());

  it('are every function of the tested stacks', () => {
    expect(entries).toEqual(expect.arrayContaining(['handlers/key-ring/index', 'handlers/regional-lookup/index']));
  });

  it.each(entries)('%s makes no network call at import time', async (entry) => {
    const calls = [
      vi.spyOn(globalThis, 'fetch'),
      vi.spyOn(http, 'request'),
      vi.spyOn(https, 'request'),
      vi.spyOn(net, 'connect'),
      vi.spyOn(net.Socket.prototype, 'connect'),
    ];

    const module = await import(/* @vite-ignore */ `../../${entry}`);

    expect(typeof module.handler).toBe('function');
    for (const call of calls) expect(call).not.toHaveBeenCalled();
  });
});
