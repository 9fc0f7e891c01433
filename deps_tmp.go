package main
import (
 _ "gorgonia.org/gorgonia"
 _ "gorgonia.org/tensor"
 _ "github.com/spf13/cobra"
 _ "gopkg.in/yaml.v3"
 _ "go4.org/unsafe/assume-no-moving-gc"
)
func main(){}
