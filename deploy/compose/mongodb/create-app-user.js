// Runs once, when the MongoDB volume is first initialised: the application's own user, with read and write on the
// application's database and nothing else (the root user stays for operators).
const password = require('fs').readFileSync('/run/secrets/mongodb_app_password', 'utf8').trim();
db.getSiblingDB('nce_upgrades').createUser({ user: 'nce_app', pwd: password, roles: [{ role: 'readWrite', db: 'nce_upgrades' }] });
