// @ts-check
// Feedback on a long step of a local plugin: osls's progress line carrying the step's own
// elapsed time (osls counts time on its main line only, which says `Packaging` meanwhile), and
// log lines where osls draws no progress at all (CI, or no terminal).

/**
 * @typedef {{ notice: (message: string) => void, info: (message: string) => void, warning: (message: string) => void }} Log
 * @typedef {{ update: (message: string) => void, remove: () => void }} Progress
 * @typedef {{ log: Log, progress?: { create: (options: { message?: string }) => Progress } }} PluginUtils
 * @typedef {{ interactive?: boolean, now?: () => number, tickMs?: number, logEveryMs?: number }} StepProgressOptions
 */

/** osls draws progress only under these conditions (lib/utils/serverless-utils/log-reporters/node.js). */
const drawsProgress = () => Boolean(process.stdin.isTTY && process.stdout.isTTY && !process.env.CI);

/** `45 s`, `3 min`, `1 h 5 min`: coarse enough to read at a glance. @param {number} milliseconds */
function formatElapsed(milliseconds) {
  const seconds = Math.floor(milliseconds / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/**
 * Runs `work` while telling the user what it waits for and for how long: the progress line is
 * redrawn every `tickMs`; without a drawn progress, a log line says it at the start and every
 * `logEveryMs`.
 * @template T
 * @param {PluginUtils} utils
 * @param {string} message what is happening, e.g. `Waiting for DNS validation of movement-pass.com in us-east-1`
 * @param {() => Promise<T>} work
 * @param {StepProgressOptions} [options]
 * @returns {Promise<T>}
 */
async function withStepProgress(utils, message, work, options = {}) {
  const { interactive = drawsProgress(), now = Date.now, tickMs = 1000, logEveryMs = 60_000 } = options;
  const started = now();
  const text = () => `${message} (${formatElapsed(now() - started)})`;
  const progress = interactive && utils.progress ? utils.progress.create({ message: text() }) : undefined;
  if (!progress) utils.log.notice(`${message} ...`);
  let lastLog = started;
  const timer = setInterval(() => {
    if (progress) {
      progress.update(text());
    } else if (now() - lastLog >= logEveryMs) {
      lastLog = now();
      utils.log.notice(`${text()} ...`);
    }
  }, tickMs);
  try {
    return await work();
  } finally {
    clearInterval(timer);
    progress?.remove();
  }
}

module.exports = { withStepProgress, formatElapsed };
