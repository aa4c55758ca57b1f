// Security regression tests: each finding of the security review, the attack and istiod's answer to it.
// One module per area under ./security, so that each stays readable on its own.
import './security/stall.js';
import './security/tls.js';
import './security/xds-load.js';
import { xdsAuthTests } from './security/xds-auth.js';

xdsAuthTests();
