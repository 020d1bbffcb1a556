package dev.burnrate.golden;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.File;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;

/**
 * Prints what Apache Avro for Java computes for our schemas and a few fixed events: parsing
 * canonical forms, CRC-64-AVRO fingerprints, single-object encodings, cross-version decodes and
 * compatibility verdicts. The TypeScript tests compare our own implementation to this output.
 */
public final class Golden {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final HexFormat HEX = HexFormat.of();
  private static final String REGENERATE = "mvn -q -f scripts/golden/pom.xml compile exec:java"
      + " && npx biome format --write services/core/test/fixtures/usage-event-golden.json";

  /** Schemas whose fingerprints are checked apart from ours: primitives and a few named types. */
  private static final String[] SAMPLE_SCHEMAS = {
    "\"null\"", "\"boolean\"", "\"int\"", "\"long\"", "\"float\"", "\"double\"", "\"bytes\"", "\"string\"",
    "{\"type\": \"int\", \"doc\": \"ignored\"}",
    "{\"type\": \"long\", \"logicalType\": \"timestamp-millis\"}",
    "{\"type\": \"array\", \"items\": \"long\"}",
    "{\"type\": \"map\", \"values\": [\"null\", \"string\"]}",
    "{\"type\": \"fixed\", \"name\": \"Md5\", \"namespace\": \"org.example\", \"size\": 16}",
    "{\"type\": \"enum\", \"name\": \"a.Color\", \"symbols\": [\"RED\", \"GREEN\"], \"default\": \"RED\", \"doc\": \"d\"}",
    "{\"type\": \"record\", \"name\": \"Outer\", \"namespace\": \"a.b\", \"aliases\": [\"Old\"], \"fields\": ["
        + "{\"name\": \"x\", \"type\": {\"type\": \"record\", \"name\": \"Inner\", \"fields\": [{\"name\": \"v\", \"type\": \"int\", \"default\": 1}]}},"
        + "{\"name\": \"y\", \"type\": \"Inner\"},"
        + "{\"name\": \"z\", \"type\": {\"type\": \"fixed\", \"name\": \"c.F\", \"size\": 2}},"
        + "{\"name\": \"w\", \"type\": [\"null\", \"c.F\", {\"type\": \"enum\", \"name\": \"E\", \"namespace\": \"\", \"symbols\": [\"A\"]}]},"
        + "{\"name\": \"u\", \"type\": {\"type\": \"array\", \"items\": \"E\"}}"
        + "]}",
  };

  public static void main(String[] args) throws Exception {
    File root = new File(args.length > 0 ? args[0] : ".").getCanonicalFile();
    TreeMap<Integer, Schema> versions = loadVersions(new File(root, "schemas/usage-event"));
    ObjectNode out = NODES.objectNode();
    out.put("generator", "Apache Avro for Java " + Schema.class.getPackage().getImplementationVersion()
        + " (scripts/golden); regenerate with: " + REGENERATE);

    ArrayNode samples = out.putArray("sample_schemas");
    for (String text : SAMPLE_SCHEMAS) {
      Schema schema = new Schema.Parser().parse(text);
      ObjectNode s = samples.addObject();
      s.put("schema", text);
      s.put("canonical", SchemaNormalization.toParsingForm(schema));
      s.put("fingerprint", String.format("%016x", SchemaNormalization.parsingFingerprint64(schema)));
    }

    ArrayNode schemas = out.putArray("schemas");
    for (Map.Entry<Integer, Schema> v : versions.entrySet()) {
      ObjectNode s = schemas.addObject();
      s.put("version", v.getKey());
      s.put("canonical", SchemaNormalization.toParsingForm(v.getValue()));
      s.put("fingerprint", String.format("%016x", SchemaNormalization.parsingFingerprint64(v.getValue())));
    }

    ObjectNode compat = out.putObject("compatibility");
    for (Map.Entry<Integer, Schema> reader : versions.entrySet()) {
      for (Map.Entry<Integer, Schema> writer : versions.entrySet()) {
        compat.put("v" + reader.getKey() + "_reads_v" + writer.getKey(), SchemaCompatibility
            .checkReaderWriterCompatibility(reader.getValue(), writer.getValue()).getType().toString());
      }
    }

    JsonNode input = JSON.readTree(new File(root, "scripts/golden/events.json"));
    ArrayNode vectors = out.putArray("vectors");
    for (JsonNode vector : input.get("vectors")) {
      int version = vector.get("version").asInt();
      Schema writer = versions.get(version);
      GenericRecord record = (GenericRecord) toAvro(writer, vector.get("event"));
      ByteBuffer encoded = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), writer).encode(record);
      byte[] bytes = new byte[encoded.remaining()];
      encoded.get(bytes);

      ObjectNode v = vectors.addObject();
      v.put("name", vector.get("name").asText());
      v.put("version", version);
      v.set("event", vector.get("event"));
      v.put("single_object_hex", HEX.formatHex(bytes));
      ObjectNode decoded = v.putObject("decoded_by_reader");
      for (Map.Entry<Integer, Schema> reader : versions.entrySet()) {
        BinaryMessageDecoder<GenericRecord> decoder = new BinaryMessageDecoder<>(GenericData.get(), reader.getValue());
        versions.values().forEach(decoder::addSchema);
        GenericRecord read = decoder.decode(bytes);
        decoded.set("v" + reader.getKey(), fromAvro(reader.getValue(), read));
      }
    }

    File target = new File(root, "services/core/test/fixtures/usage-event-golden.json");
    target.getParentFile().mkdirs();
    JSON.writeValue(target, out);
    System.out.println("wrote " + target);
  }

  private static TreeMap<Integer, Schema> loadVersions(File dir) throws Exception {
    Pattern name = Pattern.compile("v(\\d+)\\.avsc");
    TreeMap<Integer, Schema> versions = new TreeMap<>();
    for (File f : dir.listFiles()) {
      Matcher m = name.matcher(f.getName());
      if (m.matches()) versions.put(Integer.parseInt(m.group(1)), new Schema.Parser().parse(f));
    }
    return versions;
  }

  /** Our plain JSON event (unions unwrapped) to an Avro generic datum of the given schema. */
  private static Object toAvro(Schema schema, JsonNode node) {
    switch (schema.getType()) {
      case NULL:
        return null;
      case UNION:
        if (node == null || node.isNull()) return null;
        for (Schema branch : schema.getTypes()) {
          if (branch.getType() != Schema.Type.NULL) return toAvro(branch, node);
        }
        throw new IllegalArgumentException("union without a non-null branch: " + schema);
      case RECORD: {
        GenericData.Record record = new GenericData.Record(schema);
        for (Schema.Field field : schema.getFields()) {
          JsonNode value = node.get(field.name());
          record.put(field.name(), value == null
              ? GenericData.get().getDefaultValue(field)
              : toAvro(field.schema(), value));
        }
        return record;
      }
      case ENUM:
        return new GenericData.EnumSymbol(schema, node.asText());
      case MAP: {
        Map<String, Object> map = new LinkedHashMap<>();
        Iterator<Map.Entry<String, JsonNode>> it = node.fields();
        while (it.hasNext()) {
          Map.Entry<String, JsonNode> e = it.next();
          map.put(e.getKey(), toAvro(schema.getValueType(), e.getValue()));
        }
        return map;
      }
      case STRING:
        return node.asText();
      case LONG:
        return node.asLong();
      case INT:
        return node.asInt();
      case DOUBLE:
        return node.asDouble();
      case BOOLEAN:
        return node.asBoolean();
      default:
        throw new IllegalArgumentException("unsupported type in golden events: " + schema.getType());
    }
  }

  /** An Avro generic datum back to plain JSON, so the decoded value can be compared in TypeScript. */
  private static JsonNode fromAvro(Schema schema, Object value) {
    if (value == null) return NODES.nullNode();
    switch (schema.getType()) {
      case UNION:
        return fromAvro(schema.getTypes().get(GenericData.get().resolveUnion(schema, value)), value);
      case RECORD: {
        ObjectNode o = NODES.objectNode();
        GenericRecord r = (GenericRecord) value;
        for (Schema.Field field : schema.getFields()) o.set(field.name(), fromAvro(field.schema(), r.get(field.name())));
        return o;
      }
      case MAP: {
        ObjectNode o = NODES.objectNode();
        List<String> keys = new ArrayList<>();
        ((Map<?, ?>) value).keySet().forEach(k -> keys.add(k.toString()));
        Map<?, ?> map = (Map<?, ?>) value;
        for (Map.Entry<?, ?> e : map.entrySet()) o.set(e.getKey().toString(), fromAvro(schema.getValueType(), e.getValue()));
        return o;
      }
      case ENUM:
      case STRING:
        return NODES.textNode(value.toString());
      case LONG:
        return NODES.numberNode((Long) value);
      case INT:
        return NODES.numberNode((Integer) value);
      case DOUBLE:
        return NODES.numberNode((Double) value);
      case BOOLEAN:
        return NODES.booleanNode((Boolean) value);
      default:
        throw new IllegalArgumentException("unsupported type in golden events: " + schema.getType());
    }
  }
}
