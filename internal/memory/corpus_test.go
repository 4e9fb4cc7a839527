package memory

// corpus is a small fixed set of short texts on different topics; the id
// of an entry is its position + 1 when stored in order into an empty store.
var corpus = []string{
	"Simmer the tomato sauce with garlic and basil for twenty minutes before adding the pasta.",        // 1 cooking
	"Knead the bread dough until it is smooth, then let it rise in a warm kitchen for an hour.",        // 2 cooking
	"PostgreSQL uses write-ahead logging so committed transactions survive a crash.",                   // 3 databases
	"Add an index on the customer_id column to speed up the slow SQL query on the orders table.",       // 4 databases
	"Our train from Paris to Rome leaves at nine; the hotel near the station is already booked.",       // 5 travel
	"Pack a passport, travel adapter and sunscreen for the beach holiday in Portugal.",                 // 6 travel
	"The string quartet rehearsed Beethoven's late sonatas for the autumn concert.",                    // 7 music
	"She tuned her guitar a half step down before recording the new song's chorus.",                    // 8 music
	"Water the tomato seedlings every morning and mulch the vegetable garden beds against weeds.",      // 9 gardening
	"Prune the rose bushes in late winter, just before new growth appears.",                            // 10 gardening
	"Jupiter's moons were first observed through a telescope by Galileo in 1610.",                      // 11 astronomy
	"A total solar eclipse happens when the Moon passes between the Sun and the Earth.",                // 12 astronomy
	"The marathon runner trained with long slow runs and interval sessions on the track.",              // 13 sports
	"The football team scored twice in extra time to win the championship final.",                      // 14 sports
	"Diversify the investment portfolio across index funds and bonds to lower the risk.",               // 15 finance
	"The central bank raised interest rates to slow down inflation.",                                   // 16 finance
	"Go's goroutines and channels make concurrent programs simple to write.",                           // 17 programming
	"Run the unit tests with the race detector before merging the pull request.",                       // 18 programming
	"Drink plenty of water and sleep eight hours to recover from the flu.",                             // 19 health
	"Regular stretching and strength exercises reduce back pain for people who sit at a desk all day.", // 20 health
}

// recallCase is a query and the ids it must find: Top1 first, and every id
// of Top3 among the first three.
type recallCase struct {
	query string
	top1  int64
	top3  []int64
}

var recallCases = []recallCase{
	{"how long should I simmer tomato sauce with pasta", 1, []int64{1}},
	{"bread dough rising", 2, []int64{2}},
	{"speed up a slow SQL query with an index", 4, []int64{4}},
	{"does postgres survive a crash with write-ahead logs", 3, []int64{3}},
	{"train to Rome and the hotel booking", 5, []int64{5}},
	{"what to pack for a beach holiday", 6, []int64{6}},
	{"string quartet concert", 7, []int64{7}},
	{"recording a song on guitar", 8, []int64{8}},
	{"tomato seedlings in the vegetable garden", 9, []int64{9, 1}},
	{"when to prune roses", 10, []int64{10}},
	{"Galileo's telescope", 11, []int64{11}},
	{"solar eclipses of the sun and moon", 12, []int64{12}},
	{"marathon training runs", 13, []int64{13}},
	{"football championship", 14, []int64{14}},
	{"interest rates and inflation", 16, []int64{16}},
	{"index funds in a portfolio", 15, []int64{15, 4}},
	{"goroutine concurrency in Go", 17, []int64{17}},
	{"running tests with the race detector", 18, []int64{18}},
	{"recovering from flu", 19, []int64{19}},
	{"back pain from sitting at a desk", 20, []int64{20}},
	// morphology and typos
	{"gardenning weeds", 9, []int64{9}},
	{"databse transactions crashing", 3, []int64{3}},
}
