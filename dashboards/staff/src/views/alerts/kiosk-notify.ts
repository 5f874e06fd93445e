// An optional chime and browser notification when a customer asks for help at a kiosk: off by default (a shared
// tablet should not beep unasked), switched on per device and remembered there.
import { effect, signal } from '@preact/signals';
import { alertOpened } from '../../live.js';

const STORAGE_KEY = 'smartstore.kioskNotify';
const CHIME_HZ = [880, 660] as const;
const CHIME_NOTE_S = 0.18;

export const kioskNotifyOn = signal(localStorage.getItem(STORAGE_KEY) === 'on');
/** why a notification cannot show (the browser refused or has none); the chime still plays */
export const notificationProblem = signal<string | null>(null);

let audio: AudioContext | undefined;

/** Two short notes from WebAudio: no sound file to fetch, nothing the Content-Security-Policy must allow. */
function chime(): void {
  audio ??= new AudioContext();
  const start = audio.currentTime;
  CHIME_HZ.forEach((hz, index) => {
    const oscillator = audio!.createOscillator();
    const gain = audio!.createGain();
    oscillator.frequency.value = hz;
    gain.gain.setValueAtTime(0.2, start + index * CHIME_NOTE_S);
    gain.gain.exponentialRampToValueAtTime(0.001, start + (index + 1) * CHIME_NOTE_S);
    oscillator.connect(gain).connect(audio!.destination);
    oscillator.start(start + index * CHIME_NOTE_S);
    oscillator.stop(start + (index + 1) * CHIME_NOTE_S);
  });
}

/** Switches it on or off; switching on asks the browser for notifications (the tap is the gesture it needs). */
export async function setKioskNotify(on: boolean): Promise<void> {
  kioskNotifyOn.value = on;
  localStorage.setItem(STORAGE_KEY, on ? 'on' : 'off');
  if (!on) return;
  // created in the tap, so the browser lets it play later
  audio ??= new AudioContext();
  void audio.resume();
  if (!('Notification' in window)) {
    notificationProblem.value = 'This browser shows no notifications; the chime still plays.';
    return;
  }
  const permission = Notification.permission === 'default' ? await Notification.requestPermission() : Notification.permission;
  notificationProblem.value = permission === 'granted' ? null : 'Notifications are blocked for this page; the chime still plays.';
}

let watching = false;

/** Once per page: chime and notify for every kiosk-assist alert that opens while it is on. */
export function watchKioskAlerts(): void {
  if (watching) return;
  watching = true;
  effect(() => {
    const opened = alertOpened.value;
    if (!opened || opened.alert.kind !== 'kiosk-assist' || !kioskNotifyOn.peek()) return;
    chime();
    if ('Notification' in window && Notification.permission === 'granted') {
      // tag: a second alert of the same kiosk replaces the first notification instead of stacking
      new Notification('Customer waiting at a kiosk', { body: opened.alert.title, tag: opened.alert.id });
    }
  });
}
