// Passes load queue: FIFO, so the passes of one applicant load in order, keeping its messages two
// weeks (the longest SQS allows: what a long outage strands still waits for the loader), with a
// dead-letter queue that keeps what failed five times for two weeks more (a FIFO queue's message
// starts its retention again when it moves to its dead-letter queue).
// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-sqs-queue.html
import { contractParameter, type Fragment, getAtt, output, ref, sub } from './cloudformation';
import { physicalName } from './names';
import type { StageSettings } from './stage';

const fourteenDays = 14 * 24 * 60 * 60;

export function queue(settings: StageSettings): Fragment {
  const loadQueueName = `${physicalName(settings, 'passes-load')}.fifo`;
  return {
    Resources: {
      PassesLoadDeadLetterQueue: {
        Type: 'AWS::SQS::Queue',
        Properties: {
          QueueName: `${physicalName(settings, 'passes-load-dlq')}.fifo`,
          FifoQueue: true,
          MessageRetentionPeriod: fourteenDays,
          SqsManagedSseEnabled: true,
          // Only the load queue may send here. Its ARN is spelled out: a GetAtt would be circular.
          RedriveAllowPolicy: {
            redrivePermission: 'byQueue',
            sourceQueueArns: [sub(`arn:\${AWS::Partition}:sqs:\${AWS::Region}:\${AWS::AccountId}:${loadQueueName}`)],
          },
        },
      },
      PassesLoadQueue: {
        Type: 'AWS::SQS::Queue',
        Properties: {
          QueueName: loadQueueName,
          FifoQueue: true,
          ContentBasedDeduplication: true,
          // High-throughput FIFO: deduplication and throughput per message group.
          DeduplicationScope: 'messageGroup',
          FifoThroughputLimit: 'perMessageGroupId',
          MessageRetentionPeriod: fourteenDays,
          ReceiveMessageWaitTimeSeconds: 20,
          VisibilityTimeout: 300,
          SqsManagedSseEnabled: true,
          RedrivePolicy: { deadLetterTargetArn: getAtt('PassesLoadDeadLetterQueue', 'Arn'), maxReceiveCount: 5 },
        },
      },
      PassesLoadQueueUrlParameter: contractParameter(
        settings,
        'passesLoadQueueUrl',
        ref('PassesLoadQueue'),
        'URL of the passes load FIFO queue',
      ),
      PassesLoadQueueArnParameter: contractParameter(
        settings,
        'passesLoadQueueArn',
        getAtt('PassesLoadQueue', 'Arn'),
        'ARN of the passes load FIFO queue',
      ),
      PassesLoadDeadLetterQueueUrlParameter: contractParameter(
        settings,
        'passesLoadDeadLetterQueueUrl',
        ref('PassesLoadDeadLetterQueue'),
        'URL of the passes load dead-letter queue',
      ),
    },
    Outputs: {
      PassesLoadQueueUrl: output('URL of the passes load FIFO queue', ref('PassesLoadQueue')),
      PassesLoadQueueArn: output('ARN of the passes load FIFO queue', getAtt('PassesLoadQueue', 'Arn')),
      PassesLoadDeadLetterQueueUrl: output('URL of the passes load dead-letter queue', ref('PassesLoadDeadLetterQueue')),
    },
  };
}
