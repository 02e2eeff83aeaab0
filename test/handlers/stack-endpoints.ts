// Local endpoints for what every packaged custom-resource function asks before it acts, in the
// services' real wire protocols so the bundles' AWS SDK clients talk to them unchanged:
// CloudFormation's query protocol (DescribeStackResource, DescribeStacks: XML answers) and
// CloudFront's REST-XML GetPublicKey.
import { createServer } from 'node:http';
import { listen } from './regional-lookup-endpoints';

const xmlText = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export interface RecordedResource {
  status: string;
  physicalId?: string;
}

/**
 * CloudFormation as a stack records itself while it carries out events: the stack's status, and
 * each resource's status and physical id (every resource in progress unless a test says otherwise).
 */
export async function startCloudFormationEndpoint() {
  const state = {
    stackStatus: 'UPDATE_IN_PROGRESS',
    /** By logical id; a resource not listed is in progress with the physical id the event names. */
    resources: new Map<string, RecordedResource | 'absent'>(),
    /** Every action asked, in order. */
    received: [] as string[],
  };
  const server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk) => {
      text += chunk;
    });
    request.on('end', () => {
      const form = new URLSearchParams(text);
      const action = form.get('Action') ?? '';
      state.received.push(action);
      const xml = (status: number, body: string) => response.writeHead(status, { 'content-type': 'text/xml' }).end(body);
      const ns = 'xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"';
      const stackId = form.get('StackName') ?? '';
      if (action === 'DescribeStacks') {
        return xml(
          200,
          `<DescribeStacksResponse ${ns}><DescribeStacksResult><Stacks><member><StackId>${xmlText(stackId)}</StackId><StackName>stack</StackName>` +
            `<CreationTime>2026-12-01T00:00:00Z</CreationTime><StackStatus>${state.stackStatus}</StackStatus></member></Stacks></DescribeStacksResult>` +
            '<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DescribeStacksResponse>',
        );
      }
      if (action === 'DescribeStackResource') {
        const logicalId = form.get('LogicalResourceId') ?? '';
        const recorded = state.resources.get(logicalId) ?? { status: 'UPDATE_IN_PROGRESS' };
        if (recorded === 'absent') {
          return xml(
            400,
            `<ErrorResponse ${ns}><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Resource ${xmlText(logicalId)} does not exist for stack ${xmlText(stackId)}</Message></Error><RequestId>r</RequestId></ErrorResponse>`,
          );
        }
        const physical =
          recorded.physicalId === undefined ? '' : `<PhysicalResourceId>${xmlText(recorded.physicalId)}</PhysicalResourceId>`;
        return xml(
          200,
          `<DescribeStackResourceResponse ${ns}><DescribeStackResourceResult><StackResourceDetail><StackId>${xmlText(stackId)}</StackId>` +
            `<StackName>stack</StackName><LogicalResourceId>${xmlText(logicalId)}</LogicalResourceId>${physical}<ResourceType>Custom::Resource</ResourceType>` +
            `<LastUpdatedTimestamp>2026-12-01T00:00:00Z</LastUpdatedTimestamp><ResourceStatus>${recorded.status}</ResourceStatus></StackResourceDetail>` +
            '</DescribeStackResourceResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DescribeStackResourceResponse>',
        );
      }
      return xml(
        400,
        `<ErrorResponse ${ns}><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>${xmlText(action)}</Message></Error></ErrorResponse>`,
      );
    });
  });
  return { ...(await listen(server)), state };
}

/** CloudFront's public keys (GetPublicKey, global): `hold` one under its id. */
export async function startCloudFrontKeysEndpoint() {
  const held = new Map<string, string>();
  const server = createServer((request, response) => {
    const id = decodeURIComponent(/\/public-key\/([^/?]+)$/.exec(request.url ?? '')?.[1] ?? '');
    const ns = 'xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"';
    const key = held.get(id);
    if (request.method !== 'GET' || !key) {
      response
        .writeHead(404, { 'content-type': 'text/xml' })
        .end(
          `<ErrorResponse ${ns}><Error><Type>Sender</Type><Code>NoSuchPublicKey</Code><Message>The specified public key does not exist.</Message></Error></ErrorResponse>`,
        );
      return;
    }
    response
      .writeHead(200, { 'content-type': 'text/xml', etag: 'E1' })
      .end(
        `<PublicKey ${ns}><Id>${xmlText(id)}</Id><CreatedTime>2026-12-01T00:00:00Z</CreatedTime><PublicKeyConfig><CallerReference>c</CallerReference>` +
          `<Name>n</Name><EncodedKey>${xmlText(key)}</EncodedKey></PublicKeyConfig></PublicKey>`,
      );
  });
  return { ...(await listen(server)), hold: (id: string, pem: string) => held.set(id, pem) };
}
