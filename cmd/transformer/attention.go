package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/gotransformer/transformer/model"
	"github.com/gotransformer/transformer/progress"
	"github.com/gotransformer/transformer/rundir"
	"github.com/gotransformer/transformer/translate"
	"github.com/gotransformer/transformer/viz"
)

func attentionCmd() *cobra.Command {
	var ckpt, weights, out, kind, format string
	var layer, head int
	cmd := &cobra.Command{
		Use:   "attention --checkpoint DIR \"SENTENCE\"",
		Short: "Draw the attention of a model on a sentence: heatmaps and an HTML explorer",
		Long: `Translate SENTENCE greedily and draw the model's attention on the pair:
encoder self-attention (source × source), decoder self-attention and
cross-attention (rows: the token each decoder position predicts).

For each chosen kind and layer, --head N draws one head to
OUT/KIND-layerL-headN.FORMAT; the default draws a grid of all heads to
OUT/KIND-layerL.FORMAT. OUT/index.html is a self-contained page (no network
needed) to explore every layer and head.

SENTENCE may have at most ` + fmt.Sprint(model.MaxAttentionTokens) + ` tokens, and the translation is cut at as
many: the maps are n×n per head and layer.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if ckpt == "" {
				return fmt.Errorf("--checkpoint is required")
			}
			if format != "png" && format != "svg" {
				return fmt.Errorf("--format must be png or svg, got %q", format)
			}
			kinds := []string{model.EncoderSelf, model.DecoderSelf, model.Cross}
			if kind != "all" {
				if _, err := (&model.AttentionMaps{}).Layers(kind); err != nil {
					return fmt.Errorf("--kind must be all, encoder, decoder or cross, got %q", kind)
				}
				kinds = []string{kind}
			}
			ck, err := rundir.LoadCheckpoint(ckpt, weights)
			if err != nil {
				return err
			}
			tr := model.NewTranslator(ck.Model, 0)
			defer tr.Close()
			v, err := translate.Inspect(cmd.Context(), tr, ck.SrcTok, ck.TgtTok, args[0], ck.Config.Decoding.Options())
			if err != nil {
				return err
			}
			if head < -1 || layer < -1 {
				return fmt.Errorf("--head and --layer take a number from 0, or -1 for all; got --head %d --layer %d", head, layer)
			}
			if head >= v.Maps.Heads() {
				return fmt.Errorf("--head %d: the model has %d heads (0–%d)", head, v.Maps.Heads(), v.Maps.Heads()-1)
			}
			if err := os.MkdirAll(out, 0o755); err != nil {
				return err
			}
			w := results(cmd)
			w.Message("translation", fmt.Sprintf("source:      %s\ntranslation: %s", v.Source, v.Translation),
				progress.F("source", v.Source), progress.F("translation", v.Translation))
			for _, k := range kinds {
				ls, _ := v.Maps.Layers(k)
				if layer >= len(ls) {
					return fmt.Errorf("--layer %d: the %s stack has %d layers (0–%d)", layer, k, len(ls), len(ls)-1)
				}
				for l := range ls {
					if layer >= 0 && l != layer {
						continue
					}
					var img []byte
					name := fmt.Sprintf("%s-layer%d", k, l)
					if head >= 0 {
						m, err := v.Map(k, l, head)
						if err != nil {
							return err
						}
						name += fmt.Sprintf("-head%d", head)
						img, err = viz.Heatmap(m, format)
						if err != nil {
							return err
						}
					} else {
						maps, err := v.Heads(k, l)
						if err != nil {
							return err
						}
						if img, err = viz.Grid(maps, min(len(maps), 4), format); err != nil {
							return err
						}
					}
					path := filepath.Join(out, name+"."+format)
					if err := model.WriteFileAtomic(path, img); err != nil {
						return err
					}
					w.Message("wrote", "wrote "+path, progress.F("path", path), progress.F("kind", k), progress.F("layer", l))
				}
			}
			page, err := v.Page()
			if err != nil {
				return err
			}
			html, err := viz.HTML(page)
			if err != nil {
				return err
			}
			path := filepath.Join(out, "index.html")
			if err := model.WriteFileAtomic(path, html); err != nil {
				return err
			}
			w.Message("wrote", "wrote "+path, progress.F("path", path))
			return nil
		},
	}
	cmd.Flags().StringVarP(&ckpt, "checkpoint", "k", "", "run directory written by train")
	addWeightsFlag(cmd, &weights, "load")
	cmd.Flags().StringVarP(&out, "out", "o", "attention", "output directory")
	cmd.Flags().StringVar(&kind, "kind", "all", "all, encoder, decoder or cross")
	cmd.Flags().IntVar(&layer, "layer", -1, "layer to draw (-1: every layer)")
	cmd.Flags().IntVar(&head, "head", -1, "head to draw (-1: a grid of all heads)")
	cmd.Flags().StringVar(&format, "format", "png", "png or svg")
	return cmd
}
