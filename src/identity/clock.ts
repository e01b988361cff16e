/** Every expiry decision reads time from here, so tests can move it instead of sleeping. */
export type Clock = () => number

export const systemClock: Clock = () => Date.now()
