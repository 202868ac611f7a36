package sut

import (
	"encoding/json"
	"fmt"
	"html"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Product is one catalogue entry.
type Product struct {
	ID          int    `json:"id"`
	Name        string `json:"name"`
	Price       Money  `json:"price"` // cents
	Stock       int    `json:"stock"`
	Category    string `json:"category"`
	Description string `json:"description"`
}

// Money is an amount in cents, so that totals add up exactly; JSON shows it in
// currency units with two decimals.
type Money int64

// MarshalJSON writes 1234 as 12.34.
func (m Money) MarshalJSON() ([]byte, error) {
	sign := ""
	v := int64(m)
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Appendf(nil, "%s%d.%02d", sign, v/100, v%100), nil
}

// UnmarshalJSON reads 12.34 (at most two decimals) back into 1234 exactly.
func (m *Money) UnmarshalJSON(b []byte) error {
	s := string(b)
	neg := strings.HasPrefix(s, "-")
	units, cents, _ := strings.Cut(strings.TrimPrefix(s, "-"), ".")
	if len(cents) > 2 || units == "" {
		return fmt.Errorf("money %s: want units with at most two decimals", s)
	}
	cents += strings.Repeat("0", 2-len(cents))
	u, err1 := strconv.ParseInt(units, 10, 64)
	c, err2 := strconv.ParseInt(cents, 10, 64)
	if err1 != nil || err2 != nil || c < 0 {
		return fmt.Errorf("money %s: want units with at most two decimals", s)
	}
	v := u*100 + c
	if neg {
		v = -v
	}
	*m = Money(v)
	return nil
}

// pageSize is how many products one page of GET /products holds.
const pageSize = 20

var (
	adjectives = []string{"Sturdy", "Light", "Classic", "Compact", "Rugged", "Silent", "Bright", "Smart", "Folding", "Vintage", "Eco", "Deluxe"}
	nouns      = []string{"Lamp", "Kettle", "Backpack", "Chair", "Headphones", "Mug", "Notebook", "Umbrella", "Bicycle Bell", "Desk", "Blender", "Jacket"}
	categories = []string{"home", "kitchen", "outdoor", "office", "audio", "apparel"}
	materials  = []string{"oak", "steel", "recycled plastic", "bamboo", "aluminium", "wool", "glass"}
)

// catalog is the shop's product list with every answer about it encoded once
// at start, so reads cost a lookup and a write.
type catalog struct {
	products []Product // products[i].ID == i+1
	item     [][]byte  // JSON of products[i]
	pages    [][]byte  // JSON of page i+1
	empty    func(page int) []byte
	home     []byte // HTML of GET /
}

// newCatalog generates n products from seed: the same seed gives the same
// catalogue, byte for byte.
func newCatalog(seed int64, n int) *catalog {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x5eed_cafe))
	c := &catalog{products: make([]Product, n), item: make([][]byte, n)}
	for i := range c.products {
		adj, noun := adjectives[rng.IntN(len(adjectives))], nouns[rng.IntN(len(nouns))]
		cents := int64(199 + rng.IntN(49_800))
		p := Product{
			ID:       i + 1,
			Name:     fmt.Sprintf("%s %s %d", adj, noun, i+1),
			Price:    Money(cents),
			Stock:    rng.IntN(200),
			Category: categories[rng.IntN(len(categories))],
			Description: fmt.Sprintf("A %s %s made of %s, rated %d.%d out of 5 by %d customers.",
				strings.ToLower(adj), strings.ToLower(noun), materials[rng.IntN(len(materials))],
				1+rng.IntN(4), rng.IntN(10), rng.IntN(5000)),
		}
		c.products[i] = p
		c.item[i] = mustJSON(p)
	}
	pages := (n + pageSize - 1) / pageSize
	c.pages = make([][]byte, pages)
	for pg := 1; pg <= pages; pg++ {
		lo, hi := (pg-1)*pageSize, min(pg*pageSize, n)
		c.pages[pg-1] = mustJSON(productPage{Page: pg, PageSize: pageSize, Total: n, Pages: pages, Products: c.products[lo:hi]})
	}
	c.empty = func(page int) []byte {
		return mustJSON(productPage{Page: page, PageSize: pageSize, Total: n, Pages: pages, Products: []Product{}})
	}
	c.home = homePage(c.products[:min(10, n)])
	return c
}

type productPage struct {
	Page     int       `json:"page"`
	PageSize int       `json:"page_size"`
	Total    int       `json:"total"`
	Pages    int       `json:"pages"`
	Products []Product `json:"products"`
}

// product returns the product with id, or nil.
func (c *catalog) product(id int) *Product {
	if id < 1 || id > len(c.products) {
		return nil
	}
	return &c.products[id-1]
}

func homePage(featured []Product) []byte {
	var b strings.Builder
	b.WriteString("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>lab shop</title></head>\n<body>\n<h1>lab shop</h1>\n<p>The misbehaving shop that lab tests itself against.</p>\n<h2>Featured</h2>\n<ul>\n")
	for _, p := range featured {
		fmt.Fprintf(&b, "<li><a href=\"/products/%d\">%s</a> %s</li>\n", p.ID, html.EscapeString(p.Name), mustJSON(p.Price))
	}
	b.WriteString("</ul>\n<p><a href=\"/products?page=1\">All products</a></p>\n</body></html>\n")
	return []byte(b.String())
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("sut: encoding %T: %v", v, err)) // a programmer bug: these types always encode
	}
	return b
}
