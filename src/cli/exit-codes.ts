/** Exit codes, named (Caddy's sigtrap.go style). */
export const ExitSuccess = 0
export const ExitFailedStartup = 1
export const ExitConfigInvalid = 2
export const ExitUsage = 64
/** An uncaught exception: drained and exited for a fresh process (sysexits.h EX_SOFTWARE). */
export const ExitInternalError = 70
