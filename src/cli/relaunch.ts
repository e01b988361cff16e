/**
 * `drawbridge start` on a single core runs under `node --single-threaded-gc`.
 *
 * V8 collects garbage with helper threads (concurrent marking, parallel scavenges). With one
 * core they share it with the requests: an incremental marking step took 11-17 ms on the main
 * thread and a full collection stalled requests for 20-30 ms, against ~1 ms steps and 2.5-5 ms
 * pauses with `--single-threaded-gc` (docs/performance.md). V8 cannot switch its GC threads off
 * once running (it aborts), so the process starts itself again with the flag and stays as a thin
 * parent: it passes on signals (SIGHUP reloads, SIGTERM/SIGINT drain) and exits as the child does;
 * the child drains and exits if the parent dies (the IPC channel between them closes).
 * Not when the flag is already given, with DRAWBRIDGE_RELAUNCH=0, or on more than one core.
 */
import { spawn } from 'node:child_process'
import { availableParallelism, constants } from 'node:os'

export const gcFlag = '--single-threaded-gc'
const forwarded = ['SIGHUP', 'SIGTERM', 'SIGINT'] as const
// set in the child's environment: it is the relaunched one
const childMark = 'DRAWBRIDGE_RELAUNCHED'

export function shouldRelaunch(args: readonly string[], execArgv: readonly string[], cores: number, env: NodeJS.ProcessEnv): boolean {
  return args[0] === 'start' && cores === 1 && !execArgv.includes(gcFlag) && env.DRAWBRIDGE_RELAUNCH !== '0' && env[childMark] !== '1'
}

/** The exit code of the relaunched `script args`, or null when this process goes on itself. */
export function relaunchIfSingleCore(script: string, args: readonly string[]): Promise<number> | null {
  if (process.env[childMark] === '1') watchParent()
  if (!shouldRelaunch(args, process.execArgv, availableParallelism(), process.env)) return null
  return relaunch(script, args)
}

function relaunch(script: string, args: readonly string[]): Promise<number> {
  const child = spawn(process.execPath, [gcFlag, ...process.execArgv, script, ...args], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, [childMark]: '1' },
  })
  for (const signal of forwarded) process.on(signal, () => void child.kill(signal))
  return new Promise((resolve) => {
    child.once('error', (err) => {
      process.stderr.write(`drawbridge: could not start node ${gcFlag}: ${err.message}\n`)
      resolve(1)
    })
    child.once('exit', (code, signal) => {
      // killed by a signal: the shell's convention, 128 + its number
      resolve(code ?? 128 + (signal !== null ? constants.signals[signal] : 0))
    })
  })
}

/** In the child: the channel must not keep it alive, and its closing means the parent is gone. */
function watchParent(): void {
  delete process.env[childMark]
  if (process.channel === undefined) return
  process.channel.unref()
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'))
}
