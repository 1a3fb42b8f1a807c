/**
 * National Provider Identifier check (CMS, "Requirements for NPI check digit"): 10 digits, the last
 * a Luhn check digit computed over the first 9 with the prefix 80840 (the ISO card issuer prefix of
 * US health applications), so `80840` + all 10 digits passes the Luhn test. US Core's us-core-16 /
 * us-core-17 invariants ask the same of Organization and Practitioner NPIs.
 */
export const NPI_SYSTEM = 'http://hl7.org/fhir/sid/us-npi';

/** Luhn check of a digit string (true when the last digit is the check digit of the others). */
function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** The check digit for the first 9 digits of an NPI. */
export function npiCheckDigit(first9: string): string {
  if (!/^\d{9}$/.test(first9)) {
    throw new Error(`npiCheckDigit needs 9 digits, not '${first9}'`);
  }
  for (let d = 0; d <= 9; d++) {
    if (luhnValid(`80840${first9}${d}`)) return String(d);
  }
  /* c8 ignore next */
  throw new Error('unreachable: one of ten digits is the Luhn check digit');
}

/** Why an NPI is not valid, or undefined when it is. */
export function npiProblem(value: string): string | undefined {
  if (!/^\d{10}$/.test(value)) {
    return `NPI '${value}' is not 10 digits`;
  }
  if (!luhnValid(`80840${value}`)) {
    return `NPI '${value}' has a wrong check digit (Luhn with the 80840 prefix gives ${npiCheckDigit(value.slice(0, 9))})`;
  }
  return undefined;
}
