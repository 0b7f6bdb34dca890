/*-------------------------------------------------------------------------
 *
 * typemap_schema.c
 *		The Avro schema of a column's type (typemap.c describes the type):
 *		its main branch, and the union a field makes of it.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * plugin/typemap_schema.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "schema_json.h"
#include "typemap.h"

#define W2A_UNCHANGED_NAME	"wal2avro.Unchanged"

/* The main (non-null, non-fallback) branch of a type */
static void
type_schema(SchemaBuf *sb, const W2aType *type)
{
	char	   *extra;
	int			i;

	switch (type->kind)
	{
		case W2A_T_BOOL:
			schema_primitive(sb, "boolean", NULL);
			break;
		case W2A_T_INT2:
		case W2A_T_INT4:
			schema_primitive(sb, "int", NULL);
			break;
		case W2A_T_INT8:
		case W2A_T_OID:
			schema_primitive(sb, "long", NULL);
			break;
		case W2A_T_FLOAT4:
			schema_primitive(sb, "float", NULL);
			break;
		case W2A_T_FLOAT8:
			schema_primitive(sb, "double", NULL);
			break;
		case W2A_T_NUMERIC_FIXED:
			extra = psprintf(",\"logicalType\":\"decimal\",\"precision\":%d,\"scale\":%d",
							 type->precision, type->scale);
			schema_fixed(sb, psprintf("wal2avro.decimal_%d_%d", type->precision, type->scale),
						 type->fixed_size, extra);
			break;
		case W2A_T_NUMERIC_VAR:
			if (schema_record_begin(sb, "wal2avro.VariableScaleDecimal", NULL))
			{
				schema_field_begin(sb, true, "scale", NULL, NULL);
				schema_primitive(sb, "int", NULL);
				schema_field_end(sb, NULL);
				schema_field_begin(sb, false, "value", NULL, NULL);
				schema_primitive(sb, "bytes", NULL);
				schema_field_end(sb, NULL);
				schema_record_end(sb);
			}
			break;
		case W2A_T_TEXT:
		case W2A_T_NAME:
		case W2A_T_TEXTOUT:
			schema_primitive(sb, "string", NULL);
			break;
		case W2A_T_BYTEA:
			schema_primitive(sb, "bytes", NULL);
			break;
		case W2A_T_DATE:
			schema_primitive(sb, "int", ",\"logicalType\":\"date\"");
			break;
		case W2A_T_TIMESTAMP:
			schema_primitive(sb, "long", ",\"logicalType\":\"local-timestamp-micros\"");
			break;
		case W2A_T_TIMESTAMPTZ:
			schema_primitive(sb, "long", ",\"logicalType\":\"timestamp-micros\"");
			break;
		case W2A_T_TIME:
			schema_primitive(sb, "long", ",\"logicalType\":\"time-micros\"");
			break;
		case W2A_T_TIMETZ:
			if (schema_record_begin(sb, "wal2avro.TimeTz", NULL))
			{
				schema_field_begin(sb, true, "micros", NULL, NULL);
				schema_primitive(sb, "long", NULL);
				schema_field_end(sb, NULL);
				schema_field_begin(sb, false, "offset_seconds", NULL, NULL);
				schema_primitive(sb, "int", NULL);
				schema_field_end(sb, NULL);
				schema_record_end(sb);
			}
			break;
		case W2A_T_INTERVAL:
			if (schema_record_begin(sb, "wal2avro.Interval", NULL))
			{
				schema_field_begin(sb, true, "months", NULL, NULL);
				schema_primitive(sb, "int", NULL);
				schema_field_end(sb, NULL);
				schema_field_begin(sb, false, "days", NULL, NULL);
				schema_primitive(sb, "int", NULL);
				schema_field_end(sb, NULL);
				schema_field_begin(sb, false, "micros", NULL, NULL);
				schema_primitive(sb, "long", NULL);
				schema_field_end(sb, NULL);
				schema_record_end(sb);
			}
			break;
		case W2A_T_UUID:
			schema_primitive(sb, "string", ",\"logicalType\":\"uuid\"");
			break;
		case W2A_T_ARRAY:
			{
				W2aField	item = {0};

				item.type = type->elem;
				item.nullable = true;
				schema_raw(sb, "{\"type\":\"array\",\"items\":");
				typemap_field_schema(sb, &item);
				schema_raw(sb, "}");
			}
			break;
		case W2A_T_COMPOSITE:
			if (schema_record_begin(sb, schema_composite_name(sb, type->record_name, type->typid),
									NULL))
			{
				for (i = 0; i < type->nfields; i++)
				{
					const W2aField *f = &type->fields[i];

					schema_field_begin(sb, i == 0, f->avro_name, f->pg_name,
									   f->type->pg_type);
					typemap_field_schema(sb, f);
					schema_field_end(sb, "null");
				}
				schema_record_end(sb);
			}
			break;
	}
}

/*
 * Write a field's type: the union of its branches, or the bare type when it
 * has only one.
 */
void
typemap_field_schema(SchemaBuf *sb, const W2aField *field)
{
	bool		is_union = field->nullable || field->toastable ||
		field->type->has_string_branch;

	if (!is_union)
	{
		type_schema(sb, field->type);
		return;
	}
	schema_raw(sb, "[");
	if (field->nullable)
		schema_raw(sb, "\"null\",");
	type_schema(sb, field->type);
	if (field->type->has_string_branch)
		schema_raw(sb, ",\"string\"");
	if (field->toastable)
	{
		schema_raw(sb, ",");
		schema_enum(sb, W2A_UNCHANGED_NAME, "UNCHANGED");
	}
	schema_raw(sb, "]");
}
