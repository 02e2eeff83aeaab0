import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';

describe('handler entries', () => {
  afterEach(() => vi.restoreAllMocks());

  it.each(['../../handlers/key-ring/index', '../../handlers/empty-bucket/index', '../../handlers/access-logs/index'])(
    '%s makes no network call at import time',
    async (entry) => {
      const calls = [
        vi.spyOn(globalThis, 'fetch'),
        vi.spyOn(http, 'request'),
        vi.spyOn(https, 'request'),
        vi.spyOn(net, 'connect'),
        vi.spyOn(net.Socket.prototype, 'connect'),
      ];

      const module = await import(entry);

      expect(typeof module.handler).toBe('function');
      for (const call of calls) expect(call).not.toHaveBeenCalled();
    },
  );
});
