// Names: app and stage in every physical name and SSM root, so two stages in one account never collide.
import { app, contractRoot, signingRoot as signingRootOf } from '../client/src/contract';
import type { StageSettings } from './stage';

// Declared once, with the parameter contract.
export { app };
export const service = `${app}-foundation`;
/** Bumped only when the parameter contract breaks; consumers use it for namespacing. */
export const contractVersion = 'v1';

export const physicalName = (settings: StageSettings, name: string): string => `${app}-${settings.stage}-${name}`;
/** The parameter contract: everything a service needs, nothing secret. */
export const ssmRoot = (settings: StageSettings): string => contractRoot(settings.stage).slice(0, -1);
/**
 * The signing root: private keys and the HS256 secret, read by signers only. Outside the
 * contract root, because GetParametersByPath returns everything below the path it is given.
 */
export const signingRoot = (settings: StageSettings): string => signingRootOf(settings.stage).slice(0, -1);
