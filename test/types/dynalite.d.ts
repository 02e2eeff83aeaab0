// dynalite ships no types; the tests start it as its README does: an http.Server over a DynamoDB
// implementation kept in memory, each table CREATING for `createTableMs` before it is ACTIVE.
declare module 'dynalite' {
  import type { Server } from 'node:http';
  export default function dynalite(options?: {
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    path?: string;
  }): Server;
}
