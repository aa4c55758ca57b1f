// Security regression tests, one module per area (test/robustness/security/<area>.ts).
import './security/stall.js';
