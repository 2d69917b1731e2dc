package main

// genDrift renders event/drift_gen.go: for every type, which body members
// it models (bodyKnown) and where its nested Extra maps are (bodyDrift),
// for event.AppendDrift.
func genDrift() []byte {
	var p printer
	p.f(header)
	p.f("package event\n\n")
	for _, t := range sortedTable() {
		n := goName(t.Wire)
		p.f("func (*%s) bodyKnown(key string) bool {\n", n)
		if len(t.Fields) > 0 {
			p.f("\tswitch key {\n\tcase ")
			for i, f := range t.Fields {
				if i > 0 {
					p.f(", ")
				}
				p.f("%q", f.JSON)
			}
			p.f(":\n\t\treturn true\n\t}\n")
		}
		p.f("\treturn false\n}\n\n")
		p.f("func (e *%s) bodyDrift(dst []Drift) []Drift {\n", n)
		p.f("\tif e.BodyExtra != nil {\n\t\tdst = driftExtra(dst, \"body\", e.BodyExtra, e.bodyKnown)\n\t}\n")
		for _, f := range t.Fields {
			path := "body." + f.JSON
			switch f.Kind {
			case kPush:
				p.f("\tdst = driftPush(dst, %q, e.%s)\n", path, f.Go)
			case kCampaigns:
				p.f("\tdst = driftCampaigns(dst, %q, e.%s)\n", path, f.Go)
			case kProximity:
				p.f("\tdst = driftProximity(dst, %q, e.%s)\n", path, f.Go)
			case kCircular:
				p.f("\tdst = driftCircular(dst, %q, e.%s)\n", path, f.Go)
			case kPages:
				p.f("\tdst = driftPages(dst, %q, e.%s)\n", path+"[]", f.Go)
			case kAttrItems:
				p.f("\tdst = driftAttrItems(dst, %q, e.%s)\n", path+"[]", f.Go)
			}
		}
		p.f("\treturn dst\n}\n\n")
	}
	return p.Bytes()
}
