// The values the app offers in its pickers are the server's (the OpenAPI document's enums).
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, test } from "vitest";
import { APPLICATION_STATUSES, EDUCATION, EMPLOYMENT, INSTALLMENT_STATUSES, LOAN_STATUSES, PURPOSES, RELATIONS } from "@app/lib/enums";

const document = JSON.parse(readFileSync(resolve(__dirname, "../../shared/src/api/openapi.json"), "utf8"));
const schemas = document.components.schemas;
const enumOf = (schema: string, field: string): string[] => {
  const property = schemas[schema].properties[field];
  return property.enum ?? property.anyOf?.find((x: { enum?: string[] }) => x.enum)?.enum ?? [];
};

describe("the app's pick lists match the API", () => {
  test("relations, employment, education and purposes", () => {
    expect([...RELATIONS].sort()).toEqual(enumOf("ContactIn", "relation").sort());
    expect([...EMPLOYMENT].sort()).toEqual(enumOf("ApplicationIn", "employment_type").sort());
    expect([...EDUCATION].sort()).toEqual(enumOf("ApplicationIn", "education").sort());
    expect([...PURPOSES].sort()).toEqual(enumOf("ApplicationIn", "purpose").sort());
  });
  test("statuses", () => {
    expect([...APPLICATION_STATUSES].sort()).toEqual(enumOf("Application", "status").sort());
    expect([...LOAN_STATUSES].sort()).toEqual(enumOf("Loan", "status").sort());
    expect([...INSTALLMENT_STATUSES].sort()).toEqual(enumOf("LoanInstallment", "status").sort());
  });
});
