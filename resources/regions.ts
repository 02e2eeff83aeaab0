// Which of its stage's regions a stack is built for, as the local plugins need it
// (`custom.movementPassRegions`): the outputs file's name, the region in a guard's message, the
// exact command line that acts on this same stack again.
import { homeRegionOf, isHomeRegion, isSharedStage, type StageSettings, secondaryRegionOf, secondaryRegionParam } from './stage';

/** The one command that deploys every region of a stage in order (scripts/deploy-regions.ts); its options follow. */
export const deployAllScript = 'npm run deploy:regions --';

/** The options every command of a stage needs besides the region: the stage, and a sandbox's opt-in to a second region. */
export function stageOptions(settings: StageSettings): string[] {
  const secondary = secondaryRegionOf(settings);
  const optIn = secondary !== undefined && !isSharedStage(settings.stage) ? [`--param=${secondaryRegionParam}=${secondary}`] : [];
  return ['--stage', settings.stage, ...optIn];
}

/** The options that select one stack of a stage: its stage options and, off home, the region. */
export const stackOptions = (settings: StageSettings, region = settings.region): string[] => [
  ...stageOptions(settings),
  ...(region === homeRegionOf(settings) ? [] : ['--region', region]),
];

export interface RegionsPluginConfig {
  stage: string;
  /** The region of this stack. */
  region: string;
  /** The stage's home region, whose stack owns what is global. */
  homeRegion: string;
  /** Every region of the stage, home first. */
  regions: string[];
  home: boolean;
  /**
   * The options that select this very stack on any `sls` command: the stage, a sandbox's opt-in
   * to a second region (needed on every command of that sandbox) and, off home, the region.
   */
  stackOptions: string;
}

export function regionsPluginConfig(settings: StageSettings): RegionsPluginConfig {
  const home = isHomeRegion(settings);
  return {
    stage: settings.stage,
    region: settings.region,
    homeRegion: homeRegionOf(settings),
    regions: settings.regions,
    home,
    stackOptions: stackOptions(settings).join(' '),
  };
}
