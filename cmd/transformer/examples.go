package main

import "github.com/spf13/cobra"

// examples are the Examples sections of the commands' help, by command.
var examples = map[string]string{
	"train": `  transformer train --config configs/numbers-en-de.yaml
  transformer train -c configs/multi30k-de-en.yaml --out checkpoints/m30k --steps 4000
  transformer train --resume checkpoints/numbers-en-de --steps 1200
  transformer train -c configs/multi30k-de-en.yaml --dry-run
  mpirun -np 4 ./transformer train -c configs/multi30k-de-en.yaml   # built with -tags mpi`,
	"translate": `  transformer translate -k checkpoints/numbers-en-de "four hundred twenty-one"
  transformer translate -k checkpoints/numbers-en-de --beam 5 --nbest 3 < inputs.txt
  transformer translate -k checkpoints/numbers-en-de/checkpoints/step-0000400 "seventeen"
  transformer translate -k checkpoints/multi30k-de-en --dtype int8 --beam 5 < test.de`,
	"generate": `  transformer generate numbers --out data/numbers
  transformer generate reverse --out data/reverse --train-size 5000`,
	"export": `  transformer export -k checkpoints/numbers-en-de --out model.safetensors`,
	"import": `  transformer import --state-dict finetuned.safetensors --like checkpoints/numbers-en-de --out checkpoints/finetuned`,
	"gradcheck": `  transformer gradcheck --layer all
  transformer gradcheck --layer rope_positions_encoder
  transformer gradcheck --config configs/numbers-en-de.yaml`,
	"validate": `  transformer validate --config configs/multi30k-de-en.yaml
  transformer validate -c my.yaml --data-dir /data/multi30k`,
	"plot": `  transformer plot checkpoints/numbers-en-de
  transformer plot checkpoints/a checkpoints/b --out compare --metric loss`,
	"attention": `  transformer attention -k checkpoints/numbers-en-de "four hundred twenty-one"
  transformer attention -k checkpoints/numbers-en-de --kind cross --layer 1 --head 0 "seventeen"`,
	"info": `  transformer info -k checkpoints/numbers-en-de
  transformer info -k checkpoints/numbers-en-de --weights last --depth 0
  transformer info -k checkpoints/multi30k-de-en --dtype int8`,
	"score": `  transformer score --hyp hyp.de --ref ref.de
  transformer score --hyp hyp.en --ref ref1.en --ref ref2.en --log-format json`,
	"eval": `  transformer eval -k checkpoints/multi30k-de-en --src test_2016_flickr.de --ref test_2016_flickr.en --beam 5
  transformer eval -k checkpoints/multi30k-de-en --dtype int8 --src test_2016_flickr.de --ref test_2016_flickr.en`,
	"average": `  transformer average -k checkpoints/multi30k-de-en --best 5 --out checkpoints/m30k-avg5`,
	"convert": `  transformer convert -k checkpoints/multi30k-de-en --dtype bf16 --out checkpoints/m30k-bf16
  transformer convert -k checkpoints/multi30k-de-en --weights last --dtype f16 --out checkpoints/m30k-f16`,
	"bench": `  transformer bench --preset small
  transformer bench --preset tiny --decode
  transformer bench --preset tiny --decode --dtype int8 --kernel avx2`,
	"classify": `  transformer classify --config configs/longrange-global.yaml
  transformer classify --resume checkpoints/longrange-global --steps 800`,
	"bench-long": `  transformer bench-long --attention sliding_window --seq 4096 --checkpoint-activations
  transformer bench-long --report results.jsonl --plot docs/images/long`,
	"serve": `  transformer serve -k checkpoints/numbers-en-de
  curl -s localhost:8080/translate -d '{"sentences": ["four hundred twenty-one"]}'`,
}

// addExamples gives each subcommand of root its Examples section.
func addExamples(root *cobra.Command) {
	for _, c := range root.Commands() {
		if ex, ok := examples[c.Name()]; ok && c.Example == "" {
			c.Example = ex
		}
	}
}
