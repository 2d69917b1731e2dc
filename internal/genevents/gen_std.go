package main

// stdType is the encoding/json equivalent of a field kind, for the
// benchmark's baseline structs.
func stdType(k kind) string {
	switch k {
	case kString:
		return "string"
	case kNumber:
		return "json.Number"
	case kBool:
		return "*bool"
	case kTime:
		return "*time.Time"
	case kPush:
		return "*stdPush"
	case kCampaigns:
		return "*stdCampaigns"
	case kRaw:
		return "json.RawMessage"
	case kStrings:
		return "[]string"
	case kStringMap:
		return "map[string]string"
	case kTagGroups:
		return "map[string][]string"
	case kProximity:
		return "*stdProximity"
	case kCircular:
		return "*stdCircular"
	case kPages:
		return "[]stdPage"
	case kAttrItems:
		return "[]stdAttr"
	}
	panic("unreachable")
}

// genStd renders internal/stdjson/types_gen.go: for every type, the struct an
// encoding/json user would write, and Decode, which decodes an event the
// way such a user would (envelope first, then the body by type). The
// benchmarks compare event.Decode with it.
func genStd() []byte {
	var p printer
	p.f(header)
	p.f("package stdjson\n\nimport (\n\t\"encoding/json\"\n\t\"time\"\n)\n\n")
	for _, t := range sortedTable() {
		n := goName(t.Wire)
		p.f("type std%sBody struct {\n", n)
		for _, f := range t.Fields {
			p.f("\t%s %s `json:%q`\n", f.Go, stdType(f.Kind), f.JSON+",omitempty")
		}
		p.f("}\n\n")
	}
	p.f("// Decode decodes data with encoding/json into the envelope and its body's\n// struct (nil for a type it does not know).\n")
	p.f("func Decode(data []byte) (*Envelope, any, error) {\n")
	p.f("\tvar env Envelope\n\tif err := json.Unmarshal(data, &env); err != nil {\n\t\treturn nil, nil, err\n\t}\n")
	p.f("\tvar body any\n\tswitch env.Type {\n")
	for _, t := range sortedTable() {
		p.f("\tcase %q:\n\t\tbody = new(std%sBody)\n", t.Wire, goName(t.Wire))
	}
	p.f("\tdefault:\n\t\treturn &env, nil, nil\n\t}\n")
	p.f("\tif len(env.Body) > 0 {\n\t\tif err := json.Unmarshal(env.Body, body); err != nil {\n\t\t\treturn nil, nil, err\n\t\t}\n\t}\n")
	p.f("\treturn &env, body, nil\n}\n")
	return p.Bytes()
}
