// Security regression tests (issue 12), one module per area.
import { xdsAuthTests } from './security/xds-auth.js';

xdsAuthTests();
