// Which of its stage's regions a stack is built for, as the local plugins need it
// (`custom.movementPassRegions`): the outputs file's name, the region in a guard's message, the
// exact command line that acts on this same stack again.
import { homeRegionOf, isHomeRegion, isSharedStage, type StageSettings, secondaryRegionParam } from './stage';

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
  const optIn =
    !isSharedStage(settings.stage) && settings.regions.length > 1 ? [`--param=${secondaryRegionParam}=${settings.regions[1]}`] : [];
  return {
    stage: settings.stage,
    region: settings.region,
    homeRegion: homeRegionOf(settings),
    regions: settings.regions,
    home,
    stackOptions: ['--stage', settings.stage, ...optIn, ...(home ? [] : ['--region', settings.region])].join(' '),
  };
}
