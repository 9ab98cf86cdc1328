import { z } from 'zod';

import { SINGLE_LINE_TEXT } from '../text.js';

/** RFC 9396 `authorization_details` types of the payment authorizations. */
export const PAYMENT_TYPES = ['payment_initiation', 'payment_cancellation'] as const;
export type PaymentType = (typeof PAYMENT_TYPES)[number];

/** The payment as the bank's payment API describes it when it opens an authorization. */
export interface PaymentDetails {
  /** Amount as a decimal string with at most the currency's minor digits, e.g. `"1250.50"`. */
  readonly amount: string;
  /** ISO 4217 currency code, e.g. `EUR`. */
  readonly currency: string;
  readonly creditorName: string;
  /** IBAN of the creditor's account (spaces allowed, checked with its check digits). */
  readonly creditorAccount: string;
  /** IBAN of the PSU's account to debit, when the PISP or the bank already knows it. */
  readonly debtorAccount?: string | undefined;
  /** Unstructured remittance information (up to 140 characters). */
  readonly remittanceInformation?: string | undefined;
  /** Requested execution date, `YYYY-MM-DD`. */
  readonly requestedExecutionDate?: string | undefined;
  /** The payment's id in the bank (the payment API's resource id). */
  readonly paymentId: string;
}

/** One `authorization_details` entry of a payment authorization, as stored and issued. */
export interface PaymentAuthorizationDetail {
  readonly type: PaymentType;
  readonly instructedAmount: { readonly currency: string; readonly amount: string };
  readonly creditorName: string;
  readonly creditorAccount: { readonly iban: string };
  readonly debtorAccount?: { readonly iban: string };
  readonly remittanceInformationUnstructured?: string;
  readonly requestedExecutionDate?: string;
  readonly paymentId: string;
}

const CURRENCIES = new Set(Intl.supportedValuesOf('currency'));

/** Digits after the decimal point a currency has (2 for EUR, 0 for JPY, 3 for BHD). */
export function minorDigits(currency: string): number {
  return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
}

/** Whether `iban` (without spaces, upper case) has a valid ISO 13616 structure and check digits. */
export function validIban(iban: string): boolean {
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(iban)) return false;
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (const character of rearranged) {
    const value = character >= 'A' ? String(character.charCodeAt(0) - 55) : character;
    for (const digit of value) remainder = (remainder * 10 + Number(digit)) % 97;
  }
  return remainder === 1;
}

const text = (name: string, max: number) => z.string({ error: `${name} must be a string` })
  .trim()
  .min(1, `${name} must not be empty`)
  .max(max, `${name} must be at most ${max} characters`)
  .regex(SINGLE_LINE_TEXT, `${name} must be a single line of printable text`);

const iban = (name: string) => z.string({ error: `${name} must be a string` })
  .transform((value) => value.replace(/\s+/g, '').toUpperCase())
  .refine(validIban, `${name} must be a valid IBAN`);

const currency = z.string({ error: 'currency must be a string' })
  .regex(/^[A-Z]{3}$/, 'currency must be an ISO 4217 code in capitals, e.g. EUR')
  .refine((code) => CURRENCIES.has(code), 'currency is not an ISO 4217 currency');

const isoDate = (name: string) => z.string({ error: `${name} must be a string` })
  .regex(/^\d{4}-\d{2}-\d{2}$/, `${name} must be a date as YYYY-MM-DD`)
  .refine((value) => {
    const date = new Date(`${value}T00:00:00Z`);
    return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(value);
  }, `${name} is not a calendar date`);

const paymentId = z.string({ error: 'paymentId must be a string' })
  .regex(/^[\x21-\x7e]{1,128}$/, 'paymentId must be 1 to 128 printable ASCII characters without spaces');

/** The amount must be positive and have at most the currency's minor digits. */
function amountProblem(amount: string, code: string): string | undefined {
  const match = /^(\d{1,15})(?:\.(\d+))?$/.exec(amount);
  if (!match) return 'amount must be a decimal number such as "1250.50"';
  const digits = CURRENCIES.has(code) ? minorDigits(code) : 2;
  if ((match[2]?.length ?? 0) > digits) return `amount must have at most ${digits} decimal digit${digits === 1 ? '' : 's'} in ${code}`;
  if (!/[1-9]/.test(amount)) return 'amount must be greater than zero';
  return undefined;
}

/** The payment of {@link PaymentDetails}, validated and normalized (IBANs without spaces). */
export const paymentDetailsSchema = z.strictObject({
  amount: z.string({ error: 'amount must be a string, e.g. "1250.50"' }),
  currency,
  creditorName: text('creditorName', 140),
  creditorAccount: iban('creditorAccount'),
  debtorAccount: iban('debtorAccount').optional(),
  remittanceInformation: text('remittanceInformation', 140).optional(),
  requestedExecutionDate: isoDate('requestedExecutionDate').optional(),
  paymentId,
}).superRefine((payment, ctx) => {
  const problem = amountProblem(payment.amount, payment.currency);
  if (problem) ctx.addIssue({ code: 'custom', path: ['amount'], message: problem });
});

/** An `authorization_details` entry exactly as this server writes it (checked again when read). */
export const authorizationDetailSchema = z.strictObject({
  type: z.enum(PAYMENT_TYPES),
  instructedAmount: z.strictObject({ currency, amount: z.string() }),
  creditorName: text('creditorName', 140),
  creditorAccount: z.strictObject({ iban: iban('creditorAccount.iban') }),
  debtorAccount: z.strictObject({ iban: iban('debtorAccount.iban') }).optional(),
  remittanceInformationUnstructured: text('remittanceInformationUnstructured', 140).optional(),
  requestedExecutionDate: isoDate('requestedExecutionDate').optional(),
  paymentId,
}).superRefine((detail, ctx) => {
  const problem = amountProblem(detail.instructedAmount.amount, detail.instructedAmount.currency);
  if (problem) ctx.addIssue({ code: 'custom', path: ['instructedAmount', 'amount'], message: problem });
});

/** The `authorization_details` entry of a payment. */
export function authorizationDetail(type: PaymentType, payment: z.output<typeof paymentDetailsSchema>): PaymentAuthorizationDetail {
  return {
    type,
    instructedAmount: { currency: payment.currency, amount: payment.amount },
    creditorName: payment.creditorName,
    creditorAccount: { iban: payment.creditorAccount },
    ...(payment.debtorAccount ? { debtorAccount: { iban: payment.debtorAccount } } : {}),
    ...(payment.remittanceInformation ? { remittanceInformationUnstructured: payment.remittanceInformation } : {}),
    ...(payment.requestedExecutionDate ? { requestedExecutionDate: payment.requestedExecutionDate } : {}),
    paymentId: payment.paymentId,
  };
}

/** The first problem of a zod failure, naming its field. */
export function firstProblem(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid';
  const field = issue.path.join('.');
  return issue.message.startsWith(field) || !field ? issue.message : `${field}: ${issue.message}`;
}

/** An IBAN as the PSU sees it: country and check digits, then only the last four characters. */
export function maskIban(value: string): string {
  return `${value.slice(0, 4)} •••• ${value.slice(-4)}`;
}

/** The amount in the PSU's language, e.g. `1.250,50 €` in German. */
export function formatAmount(amount: string, code: string, language: string): string {
  const digits = minorDigits(code);
  // Decimal strings are formatted without going through a binary float.
  const [whole = '0', fraction = ''] = amount.split('.');
  const format = new Intl.NumberFormat(language, { style: 'currency', currency: code, minimumFractionDigits: digits, maximumFractionDigits: digits });
  const parts = format.formatToParts(digits ? 1.5 : 1);
  const grouped = new Intl.NumberFormat(language, { useGrouping: true }).format(BigInt(whole));
  const decimal = parts.find((part) => part.type === 'decimal')?.value ?? '.';
  const number = digits ? `${grouped}${decimal}${fraction.padEnd(digits, '0')}` : grouped;
  let placed = false;
  return parts.map((part) => {
    if (part.type === 'integer' || part.type === 'decimal' || part.type === 'fraction' || part.type === 'group') {
      if (placed) return '';
      placed = true;
      return number;
    }
    return part.value;
  }).join('');
}

/** The pages write British English ("authorise"), and dates the British way. */
const DATE_LOCALES: Readonly<Record<string, string>> = { en: 'en-GB' };

/** A `YYYY-MM-DD` date in the PSU's language, e.g. `1. Dezember 2026`, `1 December 2026`. */
export function formatDate(value: string, language: string): string {
  return new Intl.DateTimeFormat(DATE_LOCALES[language] ?? language, { dateStyle: 'long', timeZone: 'UTC' }).format(new Date(`${value}T00:00:00Z`));
}
