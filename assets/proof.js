// The proof of work (ALTCHA, self-hosted: no third party sees who asks): a fresh challenge from the server,
// solved on the device. Citizen bookings and requests carry one (offline.js), and so does a staff sign-in after
// several failures for the account.
import { solveChallenge } from "altcha-lib";

export async function proofOfWork() {
  const response = await fetch("/api/v1/challenge", { cache: "no-store", headers: { Accept: "application/json" } });
  const c = await response.json();
  const solution = await solveChallenge(c.challenge, c.salt, c.algorithm, c.maxnumber).promise;
  return btoa(JSON.stringify({ algorithm: c.algorithm, challenge: c.challenge, number: solution.number,
    salt: c.salt, signature: c.signature }));
}
