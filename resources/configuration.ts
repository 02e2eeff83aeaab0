// Configuration: who this stage is, as the first keys of the parameter contract.
import { contractParameter, type Fragment, output } from './cloudformation';
import { app, contractVersion, ssmRoot } from './names';
import type { StageSettings } from './stage';

export function configuration(settings: StageSettings): Fragment {
  return {
    Resources: {
      AppParameter: contractParameter(settings, 'app', app, 'Solution name, the prefix of every physical name'),
      VersionParameter: contractParameter(settings, 'version', contractVersion, 'Version of the parameter contract'),
      StageParameter: contractParameter(settings, 'stage', settings.stage, 'Stage these parameters belong to'),
      DomainParameter: contractParameter(settings, 'domain', settings.domain, 'Domain of the product (Route 53 hosted zone)'),
    },
    Outputs: {
      SsmRoot: output(
        'Root of the parameter contract: GetParametersByPath(Path=<this>, Recursive=true), never with decryption: it holds String parameters only',
        ssmRoot(settings),
      ),
    },
  };
}
