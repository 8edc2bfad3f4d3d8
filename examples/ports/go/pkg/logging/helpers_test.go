package logging

import (
	"errors"
	"math"
)

func nan() float64 { return math.NaN() }

func errorsIs(err, target error) bool { return errors.Is(err, target) }
