// Every collection Taqib defines, in one explicit list: each process creates the same
// collections and indexes whichever modules it happened to import (a node running only the
// SMPP service still indexes the follow-up's collection). Add a domain's model here when you
// add it to its folder's models.ts.
import type { Db } from "mongodb";
import type mongoose from "mongoose";
import { AgencyModel, AgencySecretModel, WebhookDeliveryModel } from "../agencies/models.ts";
import { AuditModel, LoginFailureModel, StaffSessionModel, StaffUserModel } from "../console/models.ts";
import { DepartmentModel, EmployeeModel, HolidayModel } from "../directory/models.ts";
import { EventModel, OutgoingNumberModel, PendingEventModel, TransactionModel } from "../events/models.ts";
import { PendingReplyModel } from "../followup/models.ts";
import { DigestItemModel, MessageModel, ReceiptModel, SmsOptOutModel, SmsPartModel, SmsQueueModel, SmsTemplateHeadModel, SmsTemplateVersionModel } from "../sms/models.ts";
import { ClaimModel, LeaseSlotModel } from "./models.ts";
import { StoredApiKeyModel } from "../platform/models.ts";
import { ReportDayModel, ReportLetterModel } from "../report/models.ts";

/**
 * The models, by domain. A function rather than a constant: the store is imported by the
 * domains whose models it lists, and a constant read during that import cycle would find
 * some of them not defined yet.
 *
 * @example
 *   storedModels().map((m) => m.collection.collectionName) // ["events", "transactions", ...]
 */
export const storedModels = (): Array<mongoose.Model<any>> => [
  // events
  EventModel,
  TransactionModel,
  PendingEventModel,
  OutgoingNumberModel,
  // directory
  DepartmentModel,
  EmployeeModel,
  HolidayModel,
  // agencies
  AgencyModel,
  AgencySecretModel,
  WebhookDeliveryModel,
  // sms
  MessageModel,
  SmsQueueModel,
  SmsPartModel,
  ReceiptModel,
  SmsOptOutModel,
  DigestItemModel,
  SmsTemplateVersionModel,
  SmsTemplateHeadModel,
  // follow-up
  PendingReplyModel,
  // console
  StaffUserModel,
  StaffSessionModel,
  LoginFailureModel,
  AuditModel,
  // report
  ReportDayModel,
  ReportLetterModel,
  // platform
  StoredApiKeyModel,
  // store
  ClaimModel,
  LeaseSlotModel,
];

/** Creates the collections of the listed models that the database does not have yet (one listing). */
export async function createMissingCollections(db: Db): Promise<void> {
  const existing = new Set((await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name));
  for (const model of storedModels()) {
    const name = model.collection.collectionName;
    if (existing.has(name)) continue;
    await db.createCollection(name).catch((err: { code?: number }) => {
      if (err.code !== 48) throw err; // created meanwhile by another node
    });
    existing.add(name);
  }
}

/** Creates every index the product's lookups use (idempotent): those of every listed model. */
export async function ensureIndexes(): Promise<void> {
  for (const model of storedModels()) await model.createIndexes();
}
