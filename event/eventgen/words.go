package eventgen

// Vocabulary. Several entries carry commas, quotes, apostrophes and
// non-ASCII text on purpose: they are what CSV writers and decoders get
// wrong.

var firstNames = []string{"Ana", "Björn", "Chloé", "Dmitri", "Emeka", "Fatima", "Giulia", "Hiro", "Inés", "Jonas", "Kalani", "Léa", "Mateo", "Noor", "Olusegun", "Priya", "Søren", "Zoë"}

var lastNames = []string{"Okafor", "Müller", "García", "Nakamura", "O'Brien", "Kowalski", "Nguyen", "Smith", "Da Silva", "Ivanova", "Dubois", "Haddad"}

var iosApps = []string{"com.example.shop", "com.example.news", "com.example.fitness"}

var androidApps = []string{"com.example.shop.android", "com.example.news", "com.example.ride"}

var iosModels = []string{"iPhone15,2", "iPhone16,1", "iPhone17,3", "iPhone14,7", "iPad13,18"}

var androidModels = []string{"Pixel 8", "Pixel 9 Pro", "SM-S918B", "SM-A546E", "moto g(60)", "M2101K6G"}

var amazonModels = []string{"KFTRWI", "KFMAWI", "AFTMM"}

var carriers = []string{"AT&T", "T-Mobile", "Verizon", "Vodafone DE", "Telefónica", "O2 - UK", "NTT ドコモ", "Orange F", "", "Carrier, \"Unknown\""}

var browsers = [][2]string{{"chrome", "131.0.6778.86"}, {"firefox", "133.0"}, {"safari", "18.1.1"}, {"edge", "131.0.2903.70"}}

type locale struct {
	country, language, zone string
	offset                  int // seconds east of UTC
}

var locales = []locale{
	{"US", "en", "America/New_York", -18000},
	{"US", "es", "America/Los_Angeles", -28800},
	{"GB", "en", "Europe/London", 0},
	{"DE", "de", "Europe/Berlin", 3600},
	{"FR", "fr", "Europe/Paris", 3600},
	{"JP", "ja", "Asia/Tokyo", 32400},
	{"BR", "pt", "America/Sao_Paulo", -10800},
	{"IN", "hi", "Asia/Kolkata", 19800},
	{"NG", "en", "Africa/Lagos", 3600},
}

var screens = []string{"Home", "ProductDetail", "Cart", "Checkout", "Settings", "Search results, page 2", "Wunschliste", "お気に入り", "Profile \"me\""}

var customNames = []string{"purchase", "add_to_cart", "viewed_product", "signed_up", "level_complete", "shared_article", "réservation_confirmée"}

var subjects = []string{"Your order has shipped", "Save 20% — \"Spring\" sale, today only", "Wir vermissen dich 💌", "New: bikes, helmets, and more", "Line one\nline two"}

var tags = []string{"vip", "newsletter", "sports", "early_adopter", "beta, testers", "café_lovers", "\"quoted\""}

var regionNames = []string{"Store #12, Main St", "Café Zürich", "Stadium Gate \"B\"", "東京駅", "Warehouse 7"}

var buttonDescriptions = []string{"Yes", "No thanks", "Shop now", "Remind me, later", "Jetzt kaufen", "\"Maybe\""}

var categories = []string{"spring_sale", "onboarding", "retention", "transactional", "weekly_digest", "ñandú"}

var flagNames = []string{"new_checkout", "dark_mode", "recommendations_v2", "holiday_banner"}

var smsMessages = []string{"STOP", "YES", "HELP", "Yes, sign me up!", "¿Cuándo abre la tienda?", "Ok 👍"}

var urls = []string{"https://example.com/sale?utm_source=airship&utm_medium=push", "https://example.com/p/123,456", "https://example.org/café"}
