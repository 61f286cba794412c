let ctx: AudioContext | undefined;

/** Must be called from a user gesture once: browsers keep audio muted until then. */
export function unlockSound(): void {
  ctx ??= new AudioContext();
  void ctx.resume();
}

/** Two short tones, generated (no audio file to load or to be blocked by the CSP). */
export function playAlarm(level: number): void {
  if (!ctx || ctx.state !== 'running') return;
  const tones = level === 1 ? [880, 660, 880, 660] : [740, 740];
  let t = ctx.currentTime;
  for (const freq of tones) {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, t);
    gain.gain.exponentialRampToValueAtTime(0.25, t + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.22);
    osc.connect(gain).connect(ctx.destination);
    osc.start(t);
    osc.stop(t + 0.24);
    t += 0.28;
  }
}
