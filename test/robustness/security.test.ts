// Security regression tests, one module per area.
import './security/xds-load.js';
