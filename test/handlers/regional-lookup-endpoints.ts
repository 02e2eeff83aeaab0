// Local endpoints for the regional lookups, speaking the services' real wire protocols so the
// AWS SDK clients the handler uses (and its packaged bundle) talk to them unchanged:
// DynamoDB's JSON 1.0 (DescribeTable of a global table's replicas, by the region the request is
// signed for) and CloudFront's REST-XML list APIs, paged the way CloudFront pages them.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Starts `server` on a free loopback port: its URL, and how to close it with every connection. */
export async function listen(server: Server) {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The region a SigV4 request is signed for: `Credential=<key>/<date>/<region>/<service>/aws4_request`. */
export function signedRegion(request: IncomingMessage): string | undefined {
  return /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(String(request.headers.authorization ?? ''))?.[1];
}

export interface ReplicaTable {
  TableStatus: string;
  LatestStreamArn?: string;
  /** As DescribeTable lists them: the table's replica regions and their status. */
  Replicas?: { RegionName: string; ReplicaStatus: string }[];
}

/** DescribeTable per region, as DynamoDB answers it for the table in the region the request is signed for. */
export async function startDynamoDbEndpoint(tables: Record<string, Record<string, ReplicaTable>>) {
  const received: { operation: string; region: string | undefined; input: Record<string, unknown> }[] = [];
  const server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk) => {
      text += chunk;
    });
    request.on('end', () => {
      const operation = String(request.headers['x-amz-target'] ?? '').replace('DynamoDB_20120810.', '');
      const region = signedRegion(request);
      const input = JSON.parse(text || '{}');
      received.push({ operation, region, input });
      const reply = (status: number, body: unknown) =>
        response.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify(body));
      const table = operation === 'DescribeTable' && region ? tables[region]?.[input.TableName] : undefined;
      if (operation !== 'DescribeTable') return reply(400, { __type: 'com.amazon.coral.service#UnknownOperationException' });
      if (!table) {
        return reply(400, {
          __type: 'com.amazonaws.dynamodb.v20120810#ResourceNotFoundException',
          message: `Requested resource not found: Table: ${input.TableName} not found`,
        });
      }
      return reply(200, {
        Table: {
          TableName: input.TableName,
          TableArn: `arn:aws:dynamodb:${region}:123456789012:table/${input.TableName}`,
          TableStatus: table.TableStatus,
          ...(table.LatestStreamArn && {
            LatestStreamArn: table.LatestStreamArn,
            StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
          }),
          ...(table.Replicas && { Replicas: table.Replicas, GlobalTableVersion: '2019.11.21' }),
        },
      });
    });
  });
  return { ...(await listen(server)), received };
}

export interface Distribution {
  id: string;
  domainName: string;
  origins: string[];
}

const xml = (tag: string, inner: string) => `<${tag}>${inner}</${tag}>`;
const xmlHeader = '<?xml version="1.0" encoding="UTF-8"?>';
const namespace = 'http://cloudfront.amazonaws.com/doc/2020-05-31/';

/**
 * CloudFront's ListDistributions and ListPublicKeys (REST-XML), `pageSize` items a page:
 * distributions say `IsTruncated` and `NextMarker`, public keys only `NextMarker`, as CloudFront does.
 */
export async function startCloudFrontEndpoint(
  data: { distributions: Distribution[]; publicKeys: { id: string; name: string }[] },
  pageSize = 2,
) {
  const received: { path: string; marker: string | null; region: string | undefined }[] = [];
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const marker = url.searchParams.get('Marker');
    received.push({ path: url.pathname, marker, region: signedRegion(request) });
    const start = marker ? Number(marker) : 0;
    const page = <T>(items: T[]) => ({
      items: items.slice(start, start + pageSize),
      next: start + pageSize < items.length ? String(start + pageSize) : '',
    });
    const reply = (body: string) => response.writeHead(200, { 'content-type': 'text/xml' }).end(xmlHeader + body);
    if (url.pathname === '/2020-05-31/distribution') {
      const { items, next } = page(data.distributions);
      const summaries = items.map((d) =>
        xml(
          'DistributionSummary',
          xml('Id', d.id) +
            xml('ARN', `arn:aws:cloudfront::123456789012:distribution/${d.id}`) +
            xml('Status', 'Deployed') +
            xml('DomainName', d.domainName) +
            xml(
              'Origins',
              xml('Quantity', String(d.origins.length)) +
                xml('Items', d.origins.map((origin, i) => xml('Origin', xml('Id', `origin-${i}`) + xml('DomainName', origin))).join('')),
            ) +
            xml('Enabled', 'true'),
        ),
      );
      return reply(
        `<DistributionList xmlns="${namespace}">` +
          xml('Marker', marker ?? '') +
          (next ? xml('NextMarker', next) : '') +
          xml('MaxItems', String(pageSize)) +
          xml('IsTruncated', next ? 'true' : 'false') +
          xml('Quantity', String(items.length)) +
          xml('Items', summaries.join('')) +
          '</DistributionList>',
      );
    }
    if (url.pathname === '/2020-05-31/public-key') {
      const { items, next } = page(data.publicKeys);
      const summaries = items.map((key) =>
        xml(
          'PublicKeySummary',
          xml('Id', key.id) +
            xml('Name', key.name) +
            xml('CreatedTime', '2026-11-01T00:00:00Z') +
            xml('EncodedKey', '-----BEGIN PUBLIC KEY-----...'),
        ),
      );
      return reply(
        `<PublicKeyList xmlns="${namespace}">` +
          (next ? xml('NextMarker', next) : '') +
          xml('MaxItems', String(pageSize)) +
          xml('Quantity', String(items.length)) +
          xml('Items', summaries.join('')) +
          '</PublicKeyList>',
      );
    }
    response
      .writeHead(404, { 'content-type': 'text/xml' })
      .end(`${xmlHeader}<ErrorResponse>${xml('Error', xml('Code', 'NotFound') + xml('Message', url.pathname))}</ErrorResponse>`);
  });
  return { ...(await listen(server)), received };
}
