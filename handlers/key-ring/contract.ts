// The key ring function's configuration contract: the environment variables its template sets and
// the plan of each custom resource it serves. The runtime side declares it; resources/key-ring.ts,
// which writes the template, imports it, so the two cannot drift apart.

import { stackIdVariable } from '../lib/environment';

/** The function's environment variables. */
export const environmentNames = {
  /** Every custom-resource function's (resources/functions.ts). */
  stackId: stackIdVariable,
  retain: 'KEY_RING_RETAIN',
  stageKeyArn: 'KEY_RING_STAGE_KEY_ARN',
  homeRegion: 'KEY_RING_HOME_REGION',
  /** The home region's key ring of a stage with a second region: that region, which must follow each rotation before the next. */
  followerRegion: 'KEY_RING_FOLLOWER_REGION',
  resources: 'KEY_RING_RESOURCES',
} as const;

/** One custom resource the function serves: what it is, and every parameter it may write. */
export interface KeyRingResourcePlan {
  kind: 'ring' | 'signingKey';
  keyStore: string;
  /** Every parameter the resource may write (both algorithms' names: a switch removes the other's). */
  parameters: string[];
  /** Private keys where the contract root once held them: removed on deploy, never written. */
  obsolete: string[];
  /** The attributes the template reads with Fn::GetAtt, and so the only ones the response carries. */
  attributes: string[];
  /** The algorithm the stage configures: an event asking for another is refused. */
  algorithm: string;
  /**
   * The rotation the stage configures: an event may ask for it, or for the one before it only
   * while its stack rolls back (the key store keeps both).
   */
  rotation: number;
  /**
   * The parameter each property of an event must name, and so the only place each value can go
   * (a private key only to the signing root); a property not listed here must be absent.
   */
  names: Partial<Record<KeyRingNameProperty, string>>;
  /**
   * A ring of a secondary region: the key store of the home region it copies its keys from (in
   * the region KEY_RING_HOME_REGION names). Absent in the home region, whose rings generate.
   */
  homeKeyStore?: string;
}

/** The properties of a key ring event that name a parameter it writes (the key store aside). */
export const keyRingNameProperties = ['PrivateKeyParameter', 'PublicKeysParameter', 'PublicKeyParameter', 'KeyIdParameter'] as const;
export type KeyRingNameProperty = (typeof keyRingNameProperties)[number];
