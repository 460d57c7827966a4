// htm bound to Preact: JSX-like templates with no build step.
import { h } from './preact.js';
import htm from './htm.js';

export const html = htm.bind(h);
